import PFModel

/// One entry of a ledger or one message of a conversation, as `diff` lists it: its line number,
/// its length, and the fields that say what it is (a ledger entry's `id`, `kind`, `status`,
/// `target`, `time`; a message's `id`, `role`, `tool_call_id`, the names of its `tool_calls` and
/// the start of its `content`). A line that is not a JSON object pfhost's strict parser reads
/// (too long to keep, floating-point numbers, not JSON) has a `problem` instead of fields.
public struct LineSummary: Sendable, Equatable {
    /// The line's number in its blob, from 1.
    public var number: Int
    /// Its length in bytes, without the newline.
    public var bytes: Int64
    /// The fields read from it, by name.
    public var fields: [String: String]
    /// Why no fields were read, if none were.
    public var problem: String?

    /// A summary.
    public init(number: Int, bytes: Int64, fields: [String: String], problem: String? = nil) {
        self.number = number
        self.bytes = bytes
        self.fields = fields
        self.problem = problem
    }

    /// The most characters of a message's content a summary keeps.
    public static let contentPreview = 120

    /// The summary of `line`, keeping the fields a layer of `kind` lists.
    static func of(_ line: BlobLine, kind: LayerKind) -> LineSummary {
        guard let bytes = line.bytes else {
            return LineSummary(number: line.number, bytes: line.length, fields: [:], problem: "a line of \(line.length) bytes, longer than diff reads")
        }
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch {
            return LineSummary(number: line.number, bytes: line.length, fields: [:], problem: "not read: \(error)")
        }
        guard let object = value.objectValue else {
            return LineSummary(number: line.number, bytes: line.length, fields: [:], problem: "not a JSON object")
        }
        var fields: [String: String] = [:]
        let names = kind == .trace ? ["id", "role", "tool_call_id"] : ["id", "kind", "status", "target", "time"]
        for name in names { if let text = object[name]?.stringValue { fields[name] = text } }
        if kind == .trace {
            if case .array(let calls)? = object["tool_calls"] {
                let names = calls.compactMap { $0["function"]?["name"]?.stringValue }
                if !names.isEmpty { fields["tool_calls"] = names.joined(separator: ",") }
            }
            if let content = object["content"]?.stringValue {
                fields["content"] = content.count > contentPreview ? String(content.prefix(contentPreview)) + "…" : content
            }
        }
        return LineSummary(number: line.number, bytes: line.length, fields: fields)
    }

    /// `{"bytes":N,"fields":{…},"line":N}`, with `"problem"` when the line was not read.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "line": .int(Int64(number)), "bytes": .int(bytes), "fields": .object(fields.mapValues { .string($0) }),
        ]
        if let problem { object["problem"] = .string(problem) }
        return .object(object)
    }
}
