import PFPluginKit

/// Checks a conversation line by line: each line one message in the OpenAI chat format.
///
/// `role` is `system`, `user`, `assistant` or `tool`; an assistant message may carry `tool_calls`
/// (`id`, `type` "function", `function` {`name`, `arguments`}); a `tool` message's `tool_call_id`
/// must answer an open call: one made on an earlier line and not answered yet. A call id may not
/// be reused while its call is open. An `id` field, when present, names the message.
///
/// Kept apart from the capture so that it can be run on bytes alone (tests, fuzzing).
struct TraceValidator {
    /// The file, as errors name it.
    let path: String
    /// Messages checked so far.
    private(set) var count: Int
    /// The `id` of the last message, if it had one.
    private(set) var lastID: String?
    /// Tool calls made and not answered yet, by id, with the line that made them.
    private(set) var open: [String: Int]

    /// The members a message is checked by; the others (its `content`, however large) are
    /// checked as JSON but never built.
    static let members: Set<String> = ["role", "tool_calls", "tool_call_id", "id"]

    /// A validator starting after `count` messages already checked, with `open` calls open.
    init(path: String, count: Int = 0, lastID: String? = nil, open: [String: Int] = [:]) {
        self.path = path
        self.count = count
        self.lastID = lastID
        self.open = open
    }

    /// Checks the next message.
    mutating func check(_ line: LineReader.Line) throws(PluginError) {
        let message = try JSONLine.object(line, in: path, keeping: Self.members)
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
    }
}
