/// Why JSON does not match a published schema, or why a schema cannot be used.
public enum SchemaViolation: Error, Hashable, Sendable, CustomStringConvertible {
    /// The value breaks the schema at `pointer` (a JSON Pointer, empty for the whole document).
    case invalid(pointer: String, message: String)
    /// A schema document is not JSON, or a `$ref` or pattern in it leads nowhere.
    case unreadableSchema(document: String, reason: String)
    /// A schema uses a keyword ``JSONSchemaValidator`` does not evaluate: refused, so a schema
    /// never says more than the host enforces.
    case unsupportedKeyword(String, document: String)

    public var description: String {
        switch self {
        case .invalid(let pointer, let message):
            "\(pointer.isEmpty ? "the layer" : pointer) \(message)"
        case .unreadableSchema(let document, let reason):
            "schema \(document) cannot be used: \(reason)"
        case .unsupportedKeyword(let keyword, let document):
            "schema \(document) uses \(keyword), which pfhost's validator does not evaluate"
        }
    }
}
