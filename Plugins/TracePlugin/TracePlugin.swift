import CPFPluginABI
import Foundation
import PFModel
import PFPluginKit

nonisolated(unsafe) private let table = PluginEntry.makeTable(
    kind: .trace, id: "dev.pfhost.trace.chat", version: "1.0.0",
    description: "Validates and stores the agent's conversation (OpenAI chat messages, JSON Lines)"
) { host, context in
    PluginEntry.run(host, context, kind: .trace) { host throws(PluginError) in try TraceCapture(host: host).run() }
}

/// The plugin's one exported symbol.
@_cdecl("pf_plugin_entry_v1")
public func pluginEntry() -> UnsafePointer<pf_plugin> { table }

/// Captures the trace layer: reads the conversation once, validating each message while
/// streaming the exact bytes into one blob.
///
/// Each line is one message in the OpenAI chat format: `role` is `system`, `user`, `assistant`
/// or `tool`; an assistant message may carry `tool_calls` (`id`, `type` "function",
/// `function` {`name`, `arguments`}); a `tool` message's `tool_call_id` must answer a call made
/// on an earlier line, once. An `id` field, when present, names the message.
struct TraceCapture {
    let host: PluginHost

    func run() throws(PluginError) {
        let path = try host.requiredConfig("path", meaning: "the agent's conversation, JSON Lines of chat messages")
        // Unchanged since the parent snapshot (same bytes): the parent's layer is this one.
        if let parent = host.parentLayer(TraceLayer.self),
           let parentSize = parent.blobs.first(where: { $0.digest == parent.content.messages })?.size,
           let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int, Int64(size) == parentSize,
           try FileDigest.of(path)?.digest == parent.content.messages {
            try host.setLayer(TraceLayer(blobs: parent.blobs, annotations: parent.annotations, content: parent.content))
            return
        }
        var reader = try LineReader(path: path)
        let writer = try host.openBlob(mediaType: "application/x-ndjson")
        var count = 0
        var lastID: String?
        var calls: [String: Int] = [:]
        var answered: [String: Int] = [:]
        while let line = try reader.next() {
            if line.number % 1024 == 0 { try host.checkCancelled() }
            let message = try JSONLine.object(line, in: path)
            let role = try JSONLine.string(message, "role", line: line.number, in: path)
            switch role {
            case "system", "user":
                break
            case "assistant":
                if let toolCalls = message["tool_calls"] {
                    guard let list = toolCalls as? [[String: Any]] else {
                        throw .invalid("\(path): line \(line.number): tool_calls is not an array of objects")
                    }
                    for call in list {
                        guard let id = call["id"] as? String, call["type"] as? String == "function",
                              let function = call["function"] as? [String: Any], function["name"] is String
                        else {
                            throw .invalid("\(path): line \(line.number): a tool call needs an id, type \"function\" and function.name")
                        }
                        if let earlier = calls.updateValue(line.number, forKey: id) {
                            throw .invalid("\(path): line \(line.number): tool call id '\(id)' was already used on line \(earlier)")
                        }
                    }
                }
            case "tool":
                let callID = try JSONLine.string(message, "tool_call_id", line: line.number, in: path)
                guard calls[callID] != nil else {
                    throw .invalid("\(path): line \(line.number): tool message answers '\(callID)', which no earlier assistant message called")
                }
                if let earlier = answered.updateValue(line.number, forKey: callID) {
                    throw .invalid("\(path): line \(line.number): tool call '\(callID)' was already answered on line \(earlier)")
                }
            default:
                throw .invalid("\(path): line \(line.number): unknown role '\(role)' (system, user, assistant or tool)")
            }
            count += 1
            lastID = message["id"] as? String
            try writer.write(line.raw)
        }
        let messages = try writer.commit()
        host.progress(done: UInt64(count), total: UInt64(count))
        try host.setLayer(TraceLayer(
            blobs: [messages], content: TraceContent(messages: messages.digest, messageCount: count, lastMessageId: lastID)))
    }
}
