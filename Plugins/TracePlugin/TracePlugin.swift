import CPFPluginABI
import PFModel
import PFPluginKit

nonisolated(unsafe) private let table = PluginEntry.makeTable(
    kind: .trace, id: "dev.pfhost.trace.chat", version: "1.0.0",
    description: "Validates and stores the agent's conversation (OpenAI chat messages, JSON Lines)",
    capture: { host, context in
        PluginEntry.run(host, context, kind: .trace) { host throws(PluginError) in try TraceCapture(host: host).run() }
    },
    restore: { host, context, json, length in
        PluginEntry.restore(host, context, json, length, kind: .trace) { host throws(PluginError) in try TraceRestore(host: host).run() }
    }
)

/// The plugin's one exported symbol.
@_cdecl("pf_plugin_entry_v1")
public func pluginEntry() -> UnsafePointer<pf_plugin> { table }

/// Captures the trace layer: reads the conversation once, validating each message while
/// streaming the exact bytes into one blob.
///
/// Each line is one message in the OpenAI chat format: `role` is `system`, `user`, `assistant`
/// or `tool`; an assistant message may carry `tool_calls` (`id`, `type` "function",
/// `function` {`name`, `arguments`}); a `tool` message's `tool_call_id` must answer an open call:
/// one made on an earlier line and not answered yet. A call id may not be reused while its call is
/// open. An `id` field, when present, names the message.
///
/// The layer keeps the calls still open at the end in the annotation `dev.pfhost.trace.open_tool_calls`
/// (a JSON array), so the next snapshot of a conversation that only grew checks just the new lines.
struct TraceCapture {
    let host: PluginHost
    static let openCallsAnnotation = "dev.pfhost.trace.open_tool_calls"

    func run() throws(PluginError) {
        let path = try host.requiredConfig("path", meaning: "the agent's conversation, JSON Lines of chat messages")
        var reader = try LineReader(path: path)
        let writer = try host.openBlob(mediaType: "application/x-ndjson")
        var count = 0
        var lastID: String?
        var open: [String: Int] = [:]

        if let parent = host.parentLayer(TraceLayer.self) {
            let parentSize = parent.blobs.first { $0.digest == parent.content.messages }?.size
            switch try AppendOnlyFile.relation(of: path, toParent: parent.content.messages, size: parentSize) {
            case .unchanged:
                try host.setLayer(TraceLayer(blobs: parent.blobs, annotations: parent.annotations, content: parent.content))
                return
            case .appended:
                if let text = parent.annotations[Self.openCallsAnnotation],
                   case .array(let items)? = try? JSONParser.parse(Array(text.utf8)),
                   case let ids = items.compactMap(\.stringValue), ids.count == items.count {
                    try AppendOnlyFile.copyPrefix(parentSize!, from: &reader, to: writer, path: path)
                    count = parent.content.messageCount
                    lastID = parent.content.lastMessageId
                    for id in ids { open[id] = 0 }
                }
            case .different:
                break
            }
        }
        while let line = try reader.next() {
            if line.number % 1024 == 0 { try host.checkCancelled() }
            let message = try JSONLine.object(line, in: path)
            let role = try JSONLine.string(message, "role", line: line.number, in: path)
            switch role {
            case "system", "user":
                break
            case "assistant":
                if let toolCalls = message["tool_calls"] {
                    guard let list = toolCalls.arrayValue?.compactMap(\.objectValue), list.count == toolCalls.arrayValue?.count else {
                        throw .invalid("\(path): line \(line.number): tool_calls is not an array of objects")
                    }
                    for call in list {
                        guard let id = call["id"]?.stringValue, call["type"]?.stringValue == "function",
                              call["function"]?["name"]?.stringValue != nil
                        else {
                            throw .invalid("\(path): line \(line.number): a tool call needs an id, type \"function\" and function.name")
                        }
                        if open.updateValue(line.number, forKey: id) != nil {
                            throw .invalid("\(path): line \(line.number): tool call id '\(id)' is already in use by an unanswered call")
                        }
                    }
                }
            case "tool":
                let callID = try JSONLine.string(message, "tool_call_id", line: line.number, in: path)
                guard open.removeValue(forKey: callID) != nil else {
                    throw .invalid("\(path): line \(line.number): tool message answers '\(callID)', which is not an open call (none made earlier, or already answered)")
                }
            default:
                throw .invalid("\(path): line \(line.number): unknown role '\(role)' (system, user, assistant or tool)")
            }
            count += 1
            lastID = message["id"]?.stringValue
            try writer.write(line.raw)
        }
        let messages = try writer.commit()
        host.progress(done: UInt64(count), total: UInt64(count))
        let openIDs = String(decoding: CanonicalJSON.encode(.array(open.keys.sorted().map(JSONValue.string))), as: UTF8.self)
        try host.setLayer(TraceLayer(
            blobs: [messages], annotations: [Self.openCallsAnnotation: openIDs],
            content: TraceContent(messages: messages.digest, messageCount: count, lastMessageId: lastID)))
    }
}
