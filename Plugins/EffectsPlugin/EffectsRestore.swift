import PFModel
import PFPluginKit

/// Restores the effects layer as `TARGET/effects/ledger.jsonl`, the ledger byte for byte (so its
/// hash chain still verifies), and points `effects.path` at it.
///
/// Effects are never replayed: a restore writes the record of what the agent did, not the
/// effects. Entries still `pending` (started, not known to have happened) are reported by id as
/// `pending_effects`: the restored agent, or its operator, decides whether each is to be retried or
/// compensated.
struct EffectsRestore {
    let host: RestoreHost
    static let file = "ledger.jsonl"
    /// At most this many pending ids are named in the report.
    static let namedPending = 20

    func run() throws(PluginError) {
        let layer = try host.layer(EffectsLayer.self)
        try host.restoreFile(Array(Self.file.utf8), from: layer.content.ledger)
        try host.setRestoredConfig("path", Self.file, isPath: true)
        guard layer.content.pendingCount > 0 else { return }
        var reader = LineReader(file: try host.openBlob(layer.content.ledger))
        var pending: [String] = []
        var count = 0
        let marker = Array("pending".utf8)
        while let line = try reader.next() {
            if line.number % 1024 == 0 { try host.checkCancelled() }
            // Most entries are settled: parse only the lines that can be pending.
            guard Self.contains(line.bytes, marker) else { continue }
            let entry = try JSONLine.object(line, in: "effects/\(Self.file)")
            guard entry["status"]?.stringValue == "pending" else { continue }
            count += 1
            if pending.count < Self.namedPending { pending.append(entry["id"]?.stringValue ?? "line \(line.number)") }
        }
        let more = count > pending.count ? " and \(count - pending.count) more (status pending in effects/\(Self.file))" : ""
        host.report("pending_effects", pending.joined(separator: ",") + more)
    }

    /// Whether `bytes` contains `needle`.
    static func contains(_ bytes: [UInt8], _ needle: [UInt8]) -> Bool {
        guard bytes.count >= needle.count else { return false }
        var start = 0
        while let first = bytes[start...].firstIndex(of: needle[0]), first + needle.count <= bytes.count {
            if bytes[first..<(first + needle.count)].elementsEqual(needle) { return true }
            start = first + 1
        }
        return false
    }
}
