/// Parses one line of a JSON Lines file into an object, with errors naming the file and line.
public enum JSONLine {
    /// The line's JSON object.
    public static func object(_ line: LineReader.Line, in path: String) throws(PluginError) -> [String: AnyJSON] {
        guard !line.bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0d }) else {
            throw .invalid("\(path): line \(line.number) is empty")
        }
        let value: AnyJSON
        do { value = try AnyJSON.parse(line.bytes) } catch {
            throw .invalid("\(path): line \(line.number) is not valid JSON")
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
