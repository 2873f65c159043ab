import CPFPluginABI
import PFModel
import PFPluginKit

nonisolated(unsafe) private let table = PluginEntry.makeTable(
    kind: .effects, id: "dev.pfhost.effects.ledger", version: "1.1.0",
    description: "Verifies and stores the agent's hash-chained side-effect ledger (JSON Lines)",
    settings: [
        PluginSetting("path", .path, required: true, help: "the agent's effect ledger, JSON Lines"),
    ],
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

/// Captures the effects layer: reads the ledger once, verifying each line and its hash-chain
/// link (``LedgerValidator``) while streaming the exact bytes into one blob.
struct EffectsCapture {
    let host: PluginHost

    func run() throws(PluginError) {
        let path = try host.requiredConfig("path", meaning: "the agent's effect ledger, JSON Lines")
        var reader = try LineReader(path: path)
        let writer = try host.openBlob(mediaType: "application/x-ndjson")
        var validator = LedgerValidator(path: path)

        // A ledger only grows. When the file is the parent's ledger, the parent's layer is this
        // one; when it starts with the parent's exact bytes, those lines were verified then, and
        // the chain is checked on from the parent's head. Either way the result is what a full
        // read would give.
        // A parent is a snapshot someone may have crafted (pulled from a registry): its counts are
        // used only when they are possible for its ledger (no more entries than bytes), so adding
        // to them can neither overflow nor carry nonsense into this layer.
        if let parent = host.parentLayer(EffectsLayer.self),
           let parentSize = parent.blobs.first(where: { $0.digest == parent.content.ledger })?.size,
           (0...parentSize).contains(Int64(parent.content.entryCount)),
           (0...parent.content.entryCount).contains(parent.content.pendingCount) {
            switch try AppendOnlyFile.relation(of: path, toParent: parent.content.ledger, size: parentSize) {
            case .unchanged:
                try host.setLayer(EffectsLayer(blobs: parent.blobs, annotations: parent.annotations, content: parent.content))
                return
            case .appended:
                try AppendOnlyFile.copyPrefix(parentSize, from: &reader, to: writer, path: path)
                validator = LedgerValidator(
                    path: path, previous: parent.content.head.flatMap { try? Digest(hex: $0) },
                    entries: parent.content.entryCount, pending: parent.content.pendingCount)
            case .different:
                break
            }
        }
        while let line = try reader.next() {
            if line.number % 1024 == 0 { try host.checkCancelled() }
            try validator.check(line)
            try writer.write(line)
        }
        let ledger = try writer.commit()
        host.progress(done: UInt64(validator.entries), total: UInt64(validator.entries))
        try host.setLayer(EffectsLayer(
            blobs: [ledger],
            content: EffectsContent(ledger: ledger.digest, entryCount: validator.entries, head: validator.previous?.hex,
                                    pendingCount: validator.pending)))
    }
}
