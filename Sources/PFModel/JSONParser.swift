/// A strict JSON parser (RFC 8259) producing ``JSONValue``.
///
/// Stricter than the standard: it refuses duplicate object keys, numbers with a fraction or
/// exponent, integers beyond 64 bits, invalid UTF-8 and lone surrogate escapes, because any
/// of these would let two readers see different values in the same bytes. Arrays and objects
/// may nest at most ``maximumDepth`` levels deep.
public struct JSONParser {
    private let bytes: [UInt8]
    private var position = 0
    private var depth = 0
    /// Whether the JSON is another program's, read as the plugin kit reads it: a number that is not
    /// a 64-bit integer as `null` (refused only when no 64-bit float holds it), a lone surrogate
    /// escape as U+FFFD.
    private var otherPrograms = false
    /// The members of the top-level object to build; the others are checked as JSON but not built
    /// (nil builds everything), so a reader that needs a few fields of a huge line holds about
    /// the line, not the tree of values it spells.
    private var keeping: Set<String>?

    /// How deeply arrays and objects may nest: `[[1]]` is 2 levels. Deeper input is refused
    /// ("nesting deeper than 512 levels" at the offset of the bracket that goes too deep) instead
    /// of being parsed by recursion until the stack runs out. pfhost's own documents nest fewer
    /// than 10 levels; the same limit holds for every JSON reader of pfhost (the store's and the
    /// plugin kit's reader of other programs' JSON).
    public static let maximumDepth = 512

    /// Parses `bytes` as one JSON value, with nothing but whitespace around it.
    ///
    /// - Throws: ``JSONParseError`` with the byte offset of the problem.
    public static func parse<Bytes: Collection<UInt8>>(_ bytes: Bytes) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes: Array(bytes))
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        guard parser.position == parser.bytes.count else { throw parser.error("unexpected data after the JSON value") }
        return value
    }

    /// Parses `bytes` as ``parse(_:)`` does or, with `otherPrograms`, as the plugin kit reads JSON
    /// other programs wrote (a ledger, a conversation), to judge it by what the plugins took from
    /// it: a number that is not a 64-bit integer (`1.5`, `1e3`, `12345678901234567890`) reads as
    /// `null` (one no 64-bit float holds, `1e400`, is refused), and an escaped lone surrogate
    /// (`"\ud83d"`, a cut emoji) as U+FFFD.
    ///
    /// `keeping` names the members of a top-level object to build: the others are checked as
    /// strictly, duplicate keys included, but read as nothing (absent from the object).
    public static func parse<Bytes: Collection<UInt8>>(_ bytes: Bytes, otherPrograms: Bool, keeping: Set<String>? = nil) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes: Array(bytes))
        parser.otherPrograms = otherPrograms
        parser.keeping = keeping
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        guard parser.position == parser.bytes.count else { throw parser.error("unexpected data after the JSON value") }
        return value
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private func error(_ message: String) -> JSONParseError {
        JSONParseError(offset: position, message: message)
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0a, 0x0d, 0x09: position += 1
            default: return
            }
        }
    }

    /// The value at `position`; when not `build`, checked as strictly and returned as `null`.
    private mutating func parseValue(build: Bool = true) throws(JSONParseError) -> JSONValue {
        guard position < bytes.count else { throw error("unexpected end of input") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject(build: build)
        case UInt8(ascii: "["): return try parseArray(build: build)
        case UInt8(ascii: "\""):
            let string = try parseString()
            return build ? .string(string) : .null
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return otherPrograms ? try parseAnyNumber() : .int(try parseInteger())
        default: throw error("unexpected character '\(Character(Unicode.Scalar(bytes[position])))'")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let expected = UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        guard bytes.count - position >= expected.count,
              bytes[position..<position + expected.count].elementsEqual(expected)
        else { throw error("invalid literal") }
        position += expected.count
    }

    private mutating func enter() throws(JSONParseError) {
        depth += 1
        guard depth <= Self.maximumDepth else { throw error("nesting deeper than \(Self.maximumDepth) levels") }
    }

    private mutating func parseObject(build: Bool) throws(JSONParseError) -> JSONValue {
        // The top-level object builds only the members `keeping` names.
        let keep = depth == 0 ? keeping : nil
        try enter()
        defer { depth -= 1 }
        position += 1
        var members: [String: JSONValue] = [:]
        // The keys of an object not built whole, for duplicates.
        var seen = Set<String>()
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return build ? .object(members) : .null
        }
        while true {
            skipWhitespace()
            guard position < bytes.count else { throw error("unexpected end of input in an object") }
            guard bytes[position] == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let keyOffset = position
            let key = try parseString()
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw error("expected ':'") }
            position += 1
            skipWhitespace()
            if build, keep == nil {
                guard members.updateValue(try parseValue(), forKey: key) == nil else {
                    throw JSONParseError(offset: keyOffset, message: "duplicate key '\(key)'")
                }
            } else {
                let kept = build && keep?.contains(key) == true
                let value = try parseValue(build: kept)
                guard seen.insert(key).inserted else { throw JSONParseError(offset: keyOffset, message: "duplicate key '\(key)'") }
                if kept { members[key] = value }
            }
            skipWhitespace()
            guard position < bytes.count else { throw error("unexpected end of input in an object") }
            switch bytes[position] {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"): position += 1; return build ? .object(members) : .null
            default: throw error("expected ',' or '}'")
            }
        }
    }

    private mutating func parseArray(build: Bool) throws(JSONParseError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        position += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return build ? .array(items) : .null
        }
        while true {
            skipWhitespace()
            let item = try parseValue(build: build)
            if build { items.append(item) }
            skipWhitespace()
            guard position < bytes.count else { throw error("unexpected end of input in an array") }
            switch bytes[position] {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"): position += 1; return build ? .array(items) : .null
            default: throw error("expected ',' or ']'")
            }
        }
    }

    private mutating func parseInteger() throws(JSONParseError) -> Int64 {
        let start = position
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        let digitsStart = position
        while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
        let digits = position - digitsStart
        guard digits > 0 else { throw error("expected a digit") }
        if digits > 1, bytes[digitsStart] == UInt8(ascii: "0") {
            throw JSONParseError(offset: start, message: "leading zero in a number")
        }
        if position < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[position]) {
            throw JSONParseError(offset: start, message: "floating-point numbers are not allowed (use an integer or a string)")
        }
        // Accumulate negatively so that Int64.min parses too.
        var value: Int64 = 0
        for byte in bytes[digitsStart..<position] {
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = shifted.subtractingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else {
                throw JSONParseError(offset: start, message: "integer out of the 64-bit range")
            }
            value = next
        }
        if bytes[start] == UInt8(ascii: "-") { return value }
        guard value != Int64.min else { throw JSONParseError(offset: start, message: "integer out of the 64-bit range") }
        return -value
    }

    /// Any RFC 8259 number: a 64-bit integer as itself, any other as `null`.
    private mutating func parseAnyNumber() throws(JSONParseError) -> JSONValue {
        let start = position
        func digits() throws(JSONParseError) -> Int {
            let first = position
            while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
            guard position > first else { throw error("expected a digit") }
            return position - first
        }
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        let integerStart = position
        if try digits() > 1, bytes[integerStart] == UInt8(ascii: "0") { throw JSONParseError(offset: start, message: "leading zero in a number") }
        var integral = true
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            _ = try digits()
            integral = false
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            _ = try digits()
            integral = false
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        if integral, let value = Int64(text) { return .int(value) }
        guard let float = Double(text), float.isFinite else { throw JSONParseError(offset: start, message: "number out of range") }
        return .null
    }

    private mutating func parseString() throws(JSONParseError) -> String {
        position += 1
        var utf8: [UInt8] = []
        while true {
            guard position < bytes.count else { throw error("unterminated string") }
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                guard let text = String(validating: utf8, as: UTF8.self) else { throw error("invalid UTF-8 in a string") }
                return text
            case UInt8(ascii: "\\"):
                position += 1
                guard position < bytes.count else { throw error("unterminated escape") }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""): utf8.append(0x22)
                case UInt8(ascii: "\\"): utf8.append(0x5c)
                case UInt8(ascii: "/"): utf8.append(0x2f)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0c)
                case UInt8(ascii: "n"): utf8.append(0x0a)
                case UInt8(ascii: "r"): utf8.append(0x0d)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try parseHex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        let paired = bytes.count - position >= 6 && bytes[position] == UInt8(ascii: "\\") && bytes[position + 1] == UInt8(ascii: "u")
                        if paired {
                            let saved = position
                            position += 2
                            let low = try parseHex4()
                            if (0xDC00...0xDFFF).contains(low) {
                                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                            } else if otherPrograms {
                                position = saved   // not a pair: the second escape is read on its own
                            } else {
                                throw error("lone surrogate escape")
                            }
                        } else if !otherPrograms {
                            throw error("lone surrogate escape")
                        }
                    } else if (0xDC00...0xDFFF).contains(scalar), !otherPrograms {
                        throw error("lone surrogate escape")
                    }
                    // Another program's lone surrogate is no scalar: U+FFFD stands for it, as in the plugin kit.
                    guard let unicode = Unicode.Scalar(scalar) ?? (otherPrograms ? "\u{FFFD}" : nil) else { throw error("invalid \\u escape") }
                    utf8.append(contentsOf: UTF8.encode(unicode)!)
                default:
                    throw error("invalid escape '\\\(Character(Unicode.Scalar(escape)))'")
                }
            case 0x00..<0x20:
                throw error("control character in a string")
            default:
                utf8.append(byte)
                position += 1
            }
        }
    }

    private mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard bytes.count - position >= 4 else { throw error("short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("invalid hex digit in \\u escape")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }
}
