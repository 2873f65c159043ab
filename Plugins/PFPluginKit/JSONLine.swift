/// Parses one line of a JSON Lines file into an object, with errors naming the file, line and column.
///
/// Errors read `trace.jsonl: line 4, column 18: expected ',' or '}'`: the line in the file,
/// the byte within the line (from 1), and the reason ``AnyJSON/parse(_:keeping:)`` gave.
public enum JSONLine {
    /// The line's JSON object.
    ///
    /// - Parameter keeping: the members to build, when the caller needs only some (every member
    ///   is checked either way); nil builds them all.
    public static func object(_ line: LineReader.Line, in path: String, keeping: Set<String>? = nil) throws(PluginError) -> [String: AnyJSON] {
        guard !line.bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0d }) else {
            throw .invalid("\(path): line \(line.number) is empty")
        }
        let value: AnyJSON
        do {
            value = try line.bytes.withUnsafeBufferPointer { buffer in
                Result { () throws(AnyJSONError) in try AnyJSON.parse(buffer, keeping: keeping) }
            }.get()
        } catch {
            // A line holds no `\n`, so the error's column is the column in the file. A last line
            // that is cut short without one may be a line its writer has not finished.
            let unfinished = line.terminated ? "" : " (the file's last line, with no newline yet: if the agent is still writing it, retry the snapshot)"
            throw .invalid("\(path): line \(line.number), column \(error.column): \(error.reason)\(unfinished)")
        }
        guard let object = value.objectValue else { throw .invalid("\(path): line \(line.number) is not a JSON object") }
        return object
    }

    /// The string field `key`, or an error naming the line.
    public static func string(_ object: [String: AnyJSON], _ key: String, line: Int, in path: String) throws(PluginError) -> String {
        guard let value = object[key]?.stringValue else {
            throw .invalid("\(path): line \(line): \(object[key] == nil ? "missing" : "non-string") '\(key)'")
        }
        return value
    }
}
