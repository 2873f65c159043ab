import PFModel

/// What `diff` reads of a world tree index blob (`pfhost-world-tree` version 1): its packs and
/// its entries by exact path.
struct WorldTreeIndex {
    var packs: [Digest]
    var entries: [PathKey: WorldEntry]

    /// Reads `value`, or says what is wrong with it (naming the entry).
    init(_ value: JSONValue) throws(FormatProblem) {
        guard value["format"]?.stringValue == "pfhost-world-tree", value["version"] == .int(1) else {
            throw FormatProblem("not a pfhost-world-tree index of version 1")
        }
        guard case .array(let packs)? = value["packs"], case .array(let entries)? = value["entries"] else {
            throw FormatProblem("no packs or entries")
        }
        self.packs = []
        for pack in packs {
            guard let text = pack.stringValue, let digest = try? Digest(parsing: text) else { throw FormatProblem("a pack that is not a digest") }
            self.packs.append(digest)
        }
        self.entries = [:]
        for (number, entry) in entries.enumerated() {
            let parsed = try Self.entry(entry, number: number + 1, packs: self.packs)
            guard self.entries.updateValue(parsed, forKey: PathKey(parsed.path)) == nil else {
                throw FormatProblem("entry \(number + 1) (\(DisplayText.escaped(bytes: parsed.path))) is listed twice")
            }
        }
    }

    private static func entry(_ value: JSONValue, number: Int, packs: [Digest]) throws(FormatProblem) -> WorldEntry {
        func integer(_ key: String) -> Int64? {
            if case .int(let number)? = value[key] { return number }
            return nil
        }
        func bytes(_ plain: String, _ encoded: String) throws(FormatProblem) -> [UInt8]? {
            if let text = value[plain]?.stringValue { return Array(text.utf8) }
            guard let text = value[encoded]?.stringValue else { return nil }
            guard let bytes = Base64.decode(text) else { throw FormatProblem("entry \(number): \(encoded) is not canonical Base64") }
            return bytes
        }
        guard let path = try bytes("path", "path_bytes"), let type = value["type"]?.stringValue,
              let mode = integer("mode"), let mtime = integer("mtime_ns")
        else { throw FormatProblem("entry \(number) lacks a path, type, mode or mtime_ns") }
        var entry = WorldEntry(path: path, type: type, mode: mode, mtimeNanoseconds: mtime, size: integer("size"),
                               target: try bytes("target", "target_bytes"))
        if let text = value["blob"]?.stringValue {
            guard let digest = try? Digest(parsing: text) else { throw FormatProblem("entry \(number): blob is not a digest") }
            entry.content = digest
        } else if let pack = integer("pack"), let offset = integer("offset") {
            guard pack >= 0, pack < packs.count, offset >= 0 else {
                throw FormatProblem("entry \(number) (\(DisplayText.escaped(bytes: path))): pack \(pack) at offset \(offset) is not in the index's \(packs.count) packs")
            }
            entry.packed = (packs[Int(pack)], offset)
        }
        return entry
    }
}
