#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Any JSON value, floating point included: what plugins read from files other programs wrote
/// (a model's `config.json`, a chat trace), as opposed to PFModel's `JSONValue`, pfhost's own
/// integer-only JSON.
public enum AnyJSON: Decodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([AnyJSON])
    case object([String: AnyJSON])

    /// Parses one JSON document (any value at the top).
    public static func parse(_ bytes: [UInt8]) throws(AnyJSONError) -> AnyJSON {
        do {
            return try JSONDecoder().decode(AnyJSON.self, from: Data(bytes))
        } catch {
            throw AnyJSONError()
        }
    }

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

/// The bytes are not one JSON document.
public struct AnyJSONError: Error, Sendable {}
