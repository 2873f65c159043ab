import CPFPluginABI
import PFModel
import PFPluginKit

private let identity = PluginIdentity(kind: .trace, id: "dev.pfhost.trace.chat", version: "1.2.0")

nonisolated(unsafe) private let table = PluginEntry.makeTable(
    identity,
    description: "Validates and stores the agent's conversation (OpenAI chat messages, JSON Lines)",
    settings: [
        PluginSetting("path", .path, required: true, help: "the agent's conversation, JSON Lines of chat messages"),
        PluginSetting("racy_window_ms", .int, default: "2000", help: "the file's stat data is trusted only once it is this old"),
    ],
    capture: { host, context in
        PluginEntry.run(host, context, identity) { host throws(PluginError) in try TraceCapture(host: host).run() }
    },
    restore: { host, context, json, length in
        PluginEntry.restore(host, context, json, length, identity) { host throws(PluginError) in try TraceRestore(host: host).run() }
    }
)

/// The plugin's one exported symbol.
@_cdecl("pf_plugin_entry_v1")
public func pluginEntry() -> UnsafePointer<pf_plugin> { table }

/// Captures the trace layer: reads the conversation once, checking each message
/// (``TraceValidator``) while streaming the exact bytes into one blob.
///
/// The layer keeps the calls still open at the end in the annotation `dev.pfhost.trace.open_tool_calls`
/// (a JSON array), so the next snapshot of a conversation that only grew checks just the new lines;
/// and, once the file is settled, its ``FileStatRecord`` in `dev.pfhost.trace.file_stat`, so the
/// next snapshot of an unchanged conversation does not read it at all.
struct TraceCapture {
    let host: PluginHost
    static let openCallsAnnotation = "dev.pfhost.trace.open_tool_calls"
    static let fileStatAnnotation = "dev.pfhost.trace.file_stat"

    func run() throws(PluginError) {
        let path = try host.requiredConfig("path", meaning: "the agent's conversation, JSON Lines of chat messages")
        let captureStart = FileStatRecord.now()
        let racyWindow = try host.racyWindow()
        let file = try ReadableFile(path: path)
        var reader = LineReader(file: file)
        var validator = TraceValidator(path: path)
        var prefix: Int64 = 0
        // The file the parent's capture read, settled, and untouched since: the parent's layer, as
        // the host gave it (nothing decoded).
        if try host.setParentLayer(ifStatOf: file, recordedIn: Self.fileStatAnnotation) { return }

        // A parent may be crafted: its count is used only when it is possible for its conversation
        // (no more messages than bytes), so adding to it can neither overflow nor carry nonsense.
        if let parent = host.parentLayer(TraceLayer.self),
           let parentSize = parent.blobs.first(where: { $0.digest == parent.content.messages })?.size,
           (0...parentSize).contains(Int64(parent.content.messageCount)) {
            switch try AppendOnlyFile.relation(of: file, toParent: parent.content.messages, size: parentSize) {
            case .unchanged:
                var annotations = parent.annotations
                if let settled = FileStatRecord.settled(file, captureStart: captureStart, racyWindow: racyWindow) { annotations[Self.fileStatAnnotation] = settled }
                try host.setLayer(TraceLayer(blobs: parent.blobs, annotations: annotations, content: parent.content))
                return
            case .appended:
                if let text = parent.annotations[Self.openCallsAnnotation],
                   case .array(let items)? = try? JSONParser.parse(Array(text.utf8)),
                   case let ids = items.compactMap(\.stringValue), ids.count == items.count {
                    prefix = parentSize
                    validator = TraceValidator(
                        path: path, count: parent.content.messageCount, lastID: parent.content.lastMessageId,
                        open: Dictionary(ids.map { ($0, 0) }, uniquingKeysWith: { first, _ in first }))
                }
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
        let messages = try writer.commit()
        let count = validator.count
        host.progress(done: UInt64(count), total: UInt64(count))
        let openIDs = String(decoding: CanonicalJSON.encode(.array(validator.open.keys.sorted().map(JSONValue.string))), as: UTF8.self)
        var annotations = [Self.openCallsAnnotation: openIDs]
        annotations[Self.fileStatAnnotation] = FileStatRecord.settled(file, captureStart: captureStart, racyWindow: racyWindow)
        try host.setLayer(TraceLayer(
            blobs: [messages], annotations: annotations,
            content: TraceContent(messages: messages.digest, messageCount: count, lastMessageId: validator.lastID)))
    }
}
