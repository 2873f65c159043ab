import PFModel

/// Any JSON value, floating point included: what plugins read from files other programs wrote
/// (a model's `config.json`, a chat trace), as opposed to PFModel's `JSONValue`, pfhost's own
/// integer-only JSON.
///
/// ``parse(_:)`` is pfhost's one reader of such JSON: every error says where (line and column)
/// and why, numbers follow the rules of ``AnyJSONParser`` (a number beyond `Double`, such as
/// `1e999999`, is refused as "number out of range"; a key twice in an object is refused), and
/// nesting is limited to ``maximumDepth`` levels.
public enum AnyJSON: Decodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([AnyJSON])
    case object([String: AnyJSON])

    /// How deeply arrays and objects may nest (`[[1]]` is 2 levels): the same limit as pfhost's
    /// own JSON (``JSONParser/maximumDepth``). Deeper input is refused ("nesting deeper than 512
    /// levels") instead of exhausting the stack.
    public static let maximumDepth = JSONParser.maximumDepth

    /// Parses one JSON document (any value at the top).
    ///
    /// - Throws: ``AnyJSONError`` with the line, column and reason.
    public static func parse(_ bytes: [UInt8]) throws(AnyJSONError) -> AnyJSON {
        try bytes.withUnsafeBufferPointer { buffer in Result { () throws(AnyJSONError) in try parse(buffer) } }.get()
    }

    /// Parses one JSON document held in `buffer`, without copying it.
    ///
    /// With `keeping`, the document must be an object or any value as usual, and is checked whole,
    /// but of a top-level object only the members named are built: a caller that needs a few
    /// fields of a large record (a chat message's `role`, not its 100 MiB `content`) then pays
    /// no memory for the rest.
    ///
    /// - Throws: ``AnyJSONError`` with the line, column and reason.
    public static func parse(_ buffer: UnsafeBufferPointer<UInt8>, keeping: Set<String>? = nil) throws(AnyJSONError) -> AnyJSON {
        var parser = AnyJSONParser(buffer, keeping: keeping)
        return try parser.parseDocument()
    }

    /// Reads a value through `Codable`, for callers that have a `Decoder` already; files are
    /// read with ``parse(_:)``, which says where and why they are not JSON.
    public init(from decoder: any Decoder) throws {
        // Tried in the order of how common each is in traces and configuration files.
        let value = try decoder.singleValueContainer()
        if value.decodeNil() {
            self = .null
        } else if let string = try? value.decode(String.self) {
            self = .string(string)
        } else if let object = try? value.decode([String: AnyJSON].self) {
            self = .object(object)
        } else if let array = try? value.decode([AnyJSON].self) {
            self = .array(array)
        } else if let bool = try? value.decode(Bool.self) {
            self = .bool(bool)
        } else if let integer = try? value.decode(Int64.self) {
            self = .integer(integer)
        } else {
            self = .number(try value.decode(Double.self))
        }
    }

    /// The members of an object, or nil.
    public var objectValue: [String: AnyJSON]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The items of an array, or nil.
    public var arrayValue: [AnyJSON]? {
        if case .array(let items) = self { return items }
        return nil
    }

    /// The string, or nil.
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The integer (a number written without fraction or exponent), or nil.
    public var integerValue: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// Looks up `key` in an object; nil for a missing key or a non-object.
    public subscript(key: String) -> AnyJSON? {
        objectValue?[key]
    }
}
