import CPFPluginABI
import PFModel
import PFPluginKit

nonisolated(unsafe) private let table = PluginEntry.makeTable(
    kind: .effects, id: "dev.pfhost.effects.ledger", version: "1.0.0",
    description: "Verifies and stores the agent's hash-chained side-effect ledger (JSON Lines)",
    capture: { host, context in
        PluginEntry.run(host, context, kind: .effects) { host throws(PluginError) in try EffectsCapture(host: host).run() }
    },
    restore: { host, context, json, length in
        PluginEntry.restore(host, context, json, length, kind: .effects) { host throws(PluginError) in try EffectsRestore(host: host).run() }
    }
)

/// The plugin's one exported symbol.
@_cdecl("pf_plugin_entry_v1")
public func pluginEntry() -> UnsafePointer<pf_plugin> { table }

/// Captures the effects layer: reads the ledger once, verifying each line's hash-chain link
/// while streaming the exact bytes into one blob.
///
/// Each line is a JSON object: `id`, `time`, `kind`, `target`, `idempotency_key` (strings),
/// `status` (`pending`, `committed` or `compensated`) and `prev`: null on the first line, else
/// `sha256:` + the hex SHA-256 of the previous line's bytes (without its newline).
struct EffectsCapture {
    let host: PluginHost

    func run() throws(PluginError) {
        let path = try host.requiredConfig("path", meaning: "the agent's effect ledger, JSON Lines")
        var previous: Digest?
        var entries = 0
        var pending = 0
        var reader = try LineReader(path: path)
        let writer = try host.openBlob(mediaType: "application/x-ndjson")

        // A ledger only grows. When the file is the parent's ledger, the parent's layer is this
        // one; when it starts with the parent's exact bytes, those lines were verified then, and
        // the chain is checked on from the parent's head. Either way the result is what a full
        // read would give.
        if let parent = host.parentLayer(EffectsLayer.self) {
            let parentSize = parent.blobs.first { $0.digest == parent.content.ledger }?.size
            switch try AppendOnlyFile.relation(of: path, toParent: parent.content.ledger, size: parentSize) {
            case .unchanged:
                try host.setLayer(EffectsLayer(blobs: parent.blobs, annotations: parent.annotations, content: parent.content))
                return
            case .appended:
                try AppendOnlyFile.copyPrefix(parentSize!, from: &reader, to: writer, path: path)
                previous = parent.content.head.flatMap { try? Digest(hex: $0) }
                entries = parent.content.entryCount
                pending = parent.content.pendingCount
            case .different:
                break
            }
        }
        while let line = try reader.next() {
            if line.number % 1024 == 0 { try host.checkCancelled() }
            let entry = try JSONLine.object(line, in: path)
            for key in ["id", "time", "kind", "target", "idempotency_key"] {
                _ = try JSONLine.string(entry, key, line: line.number, in: path)
            }
            let status = try JSONLine.string(entry, "status", line: line.number, in: path)
            switch status {
            case "pending": pending += 1
            case "committed", "compensated": break
            default: throw .invalid("\(path): line \(line.number): status '\(status)' is not pending, committed or compensated")
            }
            let prev = entry["prev"]?.stringValue
            if let previous {
                guard prev == previous.description else {
                    throw .invalid("\(path): line \(line.number): the hash chain is broken: prev is \(prev ?? "null"), expected \(previous) (the SHA-256 of line \(line.number - 1))")
                }
            } else if prev != nil || (entry["prev"] != nil && entry["prev"] != .null) {
                throw .invalid("\(path): line 1: prev must be null on the first entry")
            }
            previous = Digest.of(line.bytes)
            entries += 1
            try writer.write(line.raw)
        }
        let ledger = try writer.commit()
        host.progress(done: UInt64(entries), total: UInt64(entries))
        try host.setLayer(EffectsLayer(
            blobs: [ledger],
            content: EffectsContent(ledger: ledger.digest, entryCount: entries, head: previous?.hex, pendingCount: pending)))
    }
}
