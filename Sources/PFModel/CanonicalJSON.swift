/// pfhost's canonical JSON: the one byte sequence for a JSON value.
///
/// Object keys are sorted by their UTF-8 bytes, there is no whitespace, integers are written
/// in decimal without leading zeros, and strings escape only `"`, `\` and control characters
/// (as `\b \f \n \r \t` or `\u00xx`); every other character is written as raw UTF-8. There is
/// no floating point. So equal values always encode to equal bytes, and equal bytes have equal
/// digests: that is what makes a snapshot's content id reproducible.
public enum CanonicalJSON {
    /// The canonical bytes of `value`.
    public static func encode(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(value, into: &out)
        return out
    }

    /// The canonical bytes of an `Encodable` value.
    ///
    /// - Throws: ``CanonicalJSONError`` when the value encodes to something pfhost's JSON
    ///   cannot hold (a floating-point number, an integer beyond `Int64`).
    public static func encode<Value: Encodable>(_ value: Value) throws -> [UInt8] {
        try encode(jsonValue(of: value))
    }

    /// The ``JSONValue`` an `Encodable` value encodes to.
    public static func jsonValue<Value: Encodable>(of value: Value) throws -> JSONValue {
        do {
            return try JSONValueEncoder.encode(value)
        } catch let error as EncodingError {
            guard case .invalidValue(_, let context) = error else { throw error }
            var path = ""
            for key in context.codingPath {
                if let index = key.intValue { path += "[\(index)]" } else { path += (path.isEmpty ? "" : ".") + key.stringValue }
            }
            throw CanonicalJSONError(message: "\(Value.self) has no canonical form\(path.isEmpty ? "" : " at " + path): \(context.debugDescription)")
        }
    }

    /// Decodes a `Decodable` value from a ``JSONValue``.
    public static func decode<Value: Decodable>(_ type: Value.Type, from value: JSONValue) throws -> Value {
        try JSONValueDecoder.decode(type, from: value)
    }

    /// Parses `bytes` strictly and decodes a `Decodable` value from them.
    public static func decode<Value: Decodable>(_ type: Value.Type, from bytes: [UInt8]) throws -> Value {
        try decode(type, from: JSONParser.parse(bytes))
    }

    private static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let flag): out.append(contentsOf: (flag ? "true" : "false").utf8)
        case .int(let number): appendInteger(number, to: &out)
        case .string(let text): appendString(text, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                write(item, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (index, key) in keys.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                appendString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                write(members[key]!, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Appends `number` in decimal, as in canonical JSON (and as `String(number)` spells it).
    public static func appendInteger(_ number: Int64, to out: inout [UInt8]) {
        if number < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = number.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)   // up to 20 digits, filled from the end
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                count += 1
                buffer[24 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            out.append(contentsOf: buffer[(24 - count)...])
        }
    }

    /// Appends `text` as a canonical JSON string: quoted, with `"`, `\` and control characters
    /// escaped (the short escapes where JSON has them, else `\u00XX`), everything else as UTF-8.
    public static func appendString(_ text: String, to out: inout [UInt8]) {
        appendString(utf8: text.utf8, to: &out)
    }

    /// ``appendString(_:to:)`` of text given as its UTF-8 bytes, which must be valid UTF-8
    /// (check with ``isValidUTF8(_:)``; other bytes belong in Base64).
    public static func appendString<Bytes: Sequence>(utf8 bytes: Bytes, to out: inout [UInt8]) where Bytes.Element == UInt8 {
        let hex = hexDigits
        out.append(UInt8(ascii: "\""))
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5c, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5c, 0x5c])
            case 0x08: out.append(contentsOf: [0x5c, UInt8(ascii: "b")])
            case 0x0c: out.append(contentsOf: [0x5c, UInt8(ascii: "f")])
            case 0x0a: out.append(contentsOf: [0x5c, UInt8(ascii: "n")])
            case 0x0d: out.append(contentsOf: [0x5c, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5c, UInt8(ascii: "t")])
            case 0x00..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0f)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Whether `bytes` are valid UTF-8 (and so can be a JSON string without loss).
    public static func isValidUTF8(_ bytes: [UInt8]) -> Bool {
        if !bytes.contains(where: { $0 >= 0x80 }) { return true }
        return String(validating: bytes, as: UTF8.self) != nil
    }
}
