import PFDiff
import PFModel

/// `pfhost diff`'s readable form: a line per layer saying what changed, then one line per
/// item (`+` added, `-` removed, `~` changed), everything from the snapshots escaped.
enum DiffText {
    static func lines(_ diff: SnapshotDiff) -> [String] {
        var out = ["diff \(Formatting.short(diff.from.id)) -> \(Formatting.short(diff.to.id))"]
        let (a, b) = (diff.from.agent, diff.to.agent)
        if a != b { out.append(DisplayText.escaped("agent    \(a.kind) \(a.version) -> \(b.kind) \(b.version)")) }
        out += model(diff.model)
        out += cache(diff.cache)
        out += world(diff.world)
        out += history(diff.effects, noun: "entry", plural: "entries")
        out += history(diff.trace, noun: "message", plural: "messages")
        return out
    }

    private static func count(_ n: Int, _ noun: String, _ plural: String? = nil) -> String {
        "\(n) \(n == 1 ? noun : plural ?? noun + "s")"
    }

    /// The layer's heading (`unchanged` or what `summary` says) and its generic lines.
    private static func heading(_ layer: LayerDiff, _ summary: [String]) -> [String] {
        let name = Formatting.pad(layer.kind.rawValue, 8)
        guard layer.changed else { return ["\(name) unchanged"] }
        var parts = summary
        let (added, removed) = (layer.blobsAdded, layer.blobsRemoved)
        parts.append("blobs +\(added.count) (\(Formatting.bytes(added.totalSize))) -\(removed.count) (\(Formatting.bytes(removed.totalSize)))")
        var out = ["\(name) " + parts.joined(separator: "; ")]
        if let plugin = layer.plugin {
            let show = { (ref: PluginRef?) in ref.map { "\($0.id) \($0.version)" } ?? "none" }
            out.append(DisplayText.escaped("  ~ plugin \(show(plugin.from)) -> \(show(plugin.to))"))
        }
        for item in layer.annotations.added { out.append(DisplayText.escaped("  + annotation \(item.key)")) }
        for item in layer.annotations.removed { out.append(DisplayText.escaped("  - annotation \(item.key)")) }
        for item in layer.annotations.changed { out.append(DisplayText.escaped("  ~ annotation \(item.to.key)")) }
        for note in layer.notes { out.append("  note: " + DisplayText.escaped(note)) }
        return out
    }

    private static func changeCounts<Item>(_ changes: Changes<Item>, _ noun: String, changed: String = "changed") -> String {
        "\(noun) +\(changes.added.count) -\(changes.removed.count) ~\(changes.changed.count) \(changed)"
    }

    private static func model(_ diff: ModelDiff) -> [String] {
        var summary: [String] = []
        if !diff.files.isEmpty { summary.append(changeCounts(diff.files, "files")) }
        if !diff.adapters.isEmpty { summary.append(changeCounts(diff.adapters, "adapters")) }
        var out = heading(diff.layer, summary)
        guard diff.layer.changed else { return out }
        out += fields(diff.fields)
        out += files(diff.files, prefix: "")
        for adapter in diff.adapters.added { out.append(DisplayText.escaped("  + adapter \(adapter.name) (\(adapter.type), \(count(adapter.files.count, "file")))")) }
        for adapter in diff.adapters.removed { out.append(DisplayText.escaped("  - adapter \(adapter.name)")) }
        for change in diff.adapters.changed {
            out.append(DisplayText.escaped("  ~ adapter \(change.to.name)"))
            out += files(ModelDiff.files(from: change.from.files, to: change.to.files), prefix: "  ")
        }
        return out
    }

    private static func fields(_ fields: FieldChanges) -> [String] {
        fields.changes.sorted { $0.key < $1.key }.map { name, change in
            DisplayText.escaped("  ~ \(name) \(change.from ?? "none") -> \(change.to ?? "none")")
        }
    }

    private static func files(_ files: Changes<ModelFile>, prefix: String) -> [String] {
        var out: [String] = []
        for file in files.added { out.append(DisplayText.escaped("\(prefix)  + \(file.path)  (\(Formatting.bytes(file.size)))")) }
        for file in files.removed { out.append(DisplayText.escaped("\(prefix)  - \(file.path)  (\(Formatting.bytes(file.size)))")) }
        for change in files.changed {
            out.append(DisplayText.escaped("\(prefix)  ~ \(change.to.path)  (\(Formatting.bytes(change.from.size)) -> \(Formatting.bytes(change.to.size)))"))
        }
        return out
    }

    private static func cache(_ diff: CacheDiff) -> [String] {
        var summary: [String] = []
        if !diff.sequences.isEmpty { summary.append(changeCounts(diff.sequences, "sequences")) }
        if let added = diff.pagesAdded, let removed = diff.pagesRemoved, !(added.isEmpty && removed.isEmpty) {
            summary.append("pages +\(added.count) -\(removed.count)")
        }
        var out = heading(diff.layer, summary)
        guard diff.layer.changed else { return out }
        out += fields(diff.fields)
        let describe = { (s: CacheSequenceRecord) in "\(count(s.tokenCount, "token")), \(count(s.pageCount, "page"))" }
        for sequence in diff.sequences.added { out.append(DisplayText.escaped("  + sequence \(sequence.id)  (\(describe(sequence)))")) }
        for sequence in diff.sequences.removed { out.append(DisplayText.escaped("  - sequence \(sequence.id)  (\(describe(sequence)))")) }
        for change in diff.sequences.changed {
            out.append(DisplayText.escaped("  ~ sequence \(change.to.id)  (\(describe(change.from)) -> \(describe(change.to)))"))
        }
        return out
    }

    private static func world(_ diff: WorldDiff) -> [String] {
        var summary: [String] = []
        if !diff.files.isEmpty { summary.append(changeCounts(diff.files, "files", changed: "modified")) }
        if diff.touched > 0 { summary.append("\(diff.touched) touched (mtime only)") }
        if !diff.env.isEmpty { summary.append(changeCounts(diff.env, "env")) }
        if !diff.processes.isEmpty { summary.append(changeCounts(diff.processes, "processes")) }
        if diff.dom != nil { summary.append("dom changed") }
        var out = heading(diff.layer, summary)
        guard diff.layer.changed else { return out }
        let size = { (entry: WorldEntry) in entry.size.map { "  (\(Formatting.bytes($0)))" } ?? (entry.type == "file" ? "" : "  (\(entry.type))") }
        for entry in diff.files.added { out.append("  + " + DisplayText.escaped(bytes: entry.path) + size(entry)) }
        for entry in diff.files.removed { out.append("  - " + DisplayText.escaped(bytes: entry.path) + size(entry)) }
        for change in diff.files.changed {
            var what = WorldEntry.differences(change.from, change.to)
            if let index = what.firstIndex(of: "size"), let old = change.from.size, let new = change.to.size {
                what[index] = "size \(Formatting.bytes(old)) -> \(Formatting.bytes(new))"
            }
            out.append("  ~ " + DisplayText.escaped(bytes: change.to.path) + "  (" + what.joined(separator: ", ") + ")")
        }
        for variable in diff.env.added { out.append(DisplayText.escaped("  + env \(variable.name)")) }
        for variable in diff.env.removed { out.append(DisplayText.escaped("  - env \(variable.name)")) }
        for change in diff.env.changed { out.append(DisplayText.escaped("  ~ env \(change.to.name)")) }
        let process = { (p: WorldProcess) in "process \(p.pid) \(p.cmdline.joined(separator: " "))" }
        for item in diff.processes.added { out.append(DisplayText.escaped("  + " + process(item))) }
        for item in diff.processes.removed { out.append(DisplayText.escaped("  - " + process(item))) }
        for change in diff.processes.changed { out.append(DisplayText.escaped("  ~ " + process(change.to))) }
        if let dom = diff.dom {
            let show = { (d: WorldDOM?) in d.map { "\($0.path) (\(Formatting.bytes($0.size)))" } ?? "none" }
            out.append(DisplayText.escaped("  ~ dom \(show(dom.from)) -> \(show(dom.to))"))
        }
        return out
    }

    private static func history(_ diff: LinesDiff, noun: String, plural: String) -> [String] {
        var summary: [String] = []
        let counts = "\(diff.count.from) -> \(diff.count.to)"
        if diff.rewritten {
            let removed = diff.removed.count + diff.unlisted.from, added = diff.added.count + diff.unlisted.to
            summary.append("history rewritten after \(noun) \(diff.common): \(count(removed, noun, plural)) removed, \(count(added, noun, plural)) added (\(counts))")
        } else if !diff.added.isEmpty {
            summary.append("\(count(diff.added.count + diff.unlisted.to, noun, plural)) appended (\(counts))")
        }
        var out = heading(diff.layer, summary)
        guard diff.layer.changed else { return out }
        for line in diff.removed { out.append("  - " + describe(line)) }
        if diff.unlisted.from > 0 { out.append("  - … \(count(diff.unlisted.from, "more line")) (not listed)") }
        for line in diff.added { out.append("  + " + describe(line)) }
        if diff.unlisted.to > 0 { out.append("  + … \(count(diff.unlisted.to, "more line")) (not listed)") }
        return out
    }

    /// `line 5: fx-5 fs.write https://… pending` or `line 7: m7 assistant: text`.
    private static func describe(_ line: LineSummary) -> String {
        if let problem = line.problem { return "line \(line.number): (\(DisplayText.escaped(problem)))" }
        let f = line.fields
        let words: [String?]
        if f["role"] != nil {
            words = [f["id"], f["role"], f["tool_call_id"].map { "answers \($0)" }, f["tool_calls"].map { "calls \($0)" },
                     f["content"].map { "\"\($0)\"" }]
        } else {
            words = [f["id"], f["kind"], f["target"], f["status"]]
        }
        return "line \(line.number): " + DisplayText.escaped(words.compactMap { $0 }.joined(separator: " "))
    }
}
