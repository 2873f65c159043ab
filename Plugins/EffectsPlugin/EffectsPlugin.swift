import CPFPluginABI
import PFModel
import PFPluginKit

private let identity = PluginIdentity(kind: .effects, id: "dev.pfhost.effects.ledger", version: "1.2.0")

nonisolated(unsafe) private let table = PluginEntry.makeTable(
    identity,
    description: "Verifies and stores the agent's hash-chained side-effect ledger (JSON Lines)",
    settings: [
        PluginSetting("path", .path, required: true, help: "the agent's effect ledger, JSON Lines"),
        PluginSetting("racy_window_ms", .int, default: "2000", help: "the file's stat data is trusted only once it is this old"),
    ],
    capture: { host, context in
        PluginEntry.run(host, context, identity) { host throws(PluginError) in try EffectsCapture(host: host).run() }
    },
    restore: { host, context, json, length in
        PluginEntry.restore(host, context, json, length, identity) { host throws(PluginError) in try EffectsRestore(host: host).run() }
    }
)

/// The plugin's one exported symbol.
@_cdecl("pf_plugin_entry_v1")
public func pluginEntry() -> UnsafePointer<pf_plugin> { table }

/// Captures the effects layer: reads the ledger once, verifying each line and its hash-chain
/// link (``LedgerValidator``) while streaming the exact bytes into one blob.
struct EffectsCapture {
    let host: PluginHost
    static let fileStatAnnotation = "dev.pfhost.effects.file_stat"

    func run() throws(PluginError) {
        let path = try host.requiredConfig("path", meaning: "the agent's effect ledger, JSON Lines")
        let captureStart = FileStatRecord.now()
        let racyWindow = try host.racyWindow()
        let file = try ReadableFile(path: path)
        var reader = LineReader(file: file)
        var validator = LedgerValidator(path: path)
        var prefix: Int64 = 0
        // The file the parent's capture read, settled, and untouched since: the parent's layer, as
        // the host gave it (nothing decoded).
        if try host.setParentLayer(ifStatOf: file, recordedIn: Self.fileStatAnnotation) { return }

        // A ledger only grows. When the file is the parent's ledger, the parent's layer is this
        // one; when it starts with the parent's exact bytes, those lines were verified then, and
        // the chain is checked on from the parent's head. Either way the result is what a full
        // read would give. A ledger whose stat data is what the parent's capture recorded of it
        // once settled (`dev.pfhost.effects.file_stat`) is the parent's without being read.
        // A parent is a snapshot someone may have crafted (pulled from a registry): its counts are
        // used only when they are possible for its ledger (no more entries than bytes), so adding
        // to them can neither overflow nor carry nonsense into this layer.
        if let parent = host.parentLayer(EffectsLayer.self),
           let parentSize = parent.blobs.first(where: { $0.digest == parent.content.ledger })?.size,
           (0...parentSize).contains(Int64(parent.content.entryCount)),
           (0...parent.content.entryCount).contains(parent.content.pendingCount) {
            switch try AppendOnlyFile.relation(of: file, toParent: parent.content.ledger, size: parentSize) {
            case .unchanged:
                var annotations = parent.annotations
                if let settled = FileStatRecord.settled(file, captureStart: captureStart, racyWindow: racyWindow) { annotations[Self.fileStatAnnotation] = settled }
                try host.setLayer(EffectsLayer(blobs: parent.blobs, annotations: annotations, content: parent.content))
                return
            case .appended:
                prefix = parentSize
                validator = LedgerValidator(
                    path: path, previous: parent.content.head.flatMap { try? Digest(hex: $0) },
                    entries: parent.content.entryCount, pending: parent.content.pendingCount)
            case .different:
                break
            }
        }
        let writer = try host.openBlob(mediaType: "application/x-ndjson")
        if prefix > 0 { try AppendOnlyFile.copyPrefix(prefix, from: &reader, to: writer, path: path) }
        while let line = try reader.next() {
            if line.number % 1024 == 0 { try host.checkCancelled() }
            try validator.check(line)
            try writer.write(line)
        }
        let ledger = try writer.commit()
        host.progress(done: UInt64(validator.entries), total: UInt64(validator.entries))
        var annotations: [String: String] = [:]
        annotations[Self.fileStatAnnotation] = FileStatRecord.settled(file, captureStart: captureStart, racyWindow: racyWindow)
        try host.setLayer(EffectsLayer(
            blobs: [ledger], annotations: annotations,
            content: EffectsContent(ledger: ledger.digest, entryCount: validator.entries, head: validator.previous?.hex,
                                    pendingCount: validator.pending)))
    }
}
