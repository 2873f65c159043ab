import PFModel
import PFPluginKit

/// Restores the trace layer as `TARGET/trace/conversation.jsonl`, the conversation byte for byte,
/// and points `trace.path` at it. Tool calls the conversation left unanswered (the annotation
/// `dev.pfhost.trace.open_tool_calls`) are reported as `open_tool_calls`: the agent made them and
/// never saw an answer.
struct TraceRestore {
    let host: RestoreHost
    static let file = "conversation.jsonl"

    func run() throws(PluginError) {
        let layer = try host.layer(TraceLayer.self)
        try host.restoreFile(Array(Self.file.utf8), from: layer.content.messages)
        try host.setRestoredConfig("path", Self.file, isPath: true)
        if let text = layer.annotations[TraceCapture.openCallsAnnotation],
           case .array(let items)? = try? JSONParser.parse(Array(text.utf8)) {
            let open = items.compactMap(\.stringValue)
            if !open.isEmpty { host.report("open_tool_calls", open.joined(separator: ",")) }
        }
        host.progress(done: 1, total: 1)
    }
}
