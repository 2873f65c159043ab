/// The one reader of JSON other programs wrote (RFC 8259, floating point allowed): what
/// ``AnyJSON/parse(_:)`` runs. Errors are ``AnyJSONError``s: byte offset, line, column, reason.
///
/// What it accepts, where RFC 8259 leaves a choice:
/// - a UTF-8 byte order mark at the start is skipped; text must be UTF-8 (invalid bytes are refused);
/// - a number without fraction or exponent that fits `Int64` is an integer; any other number is a
///   `Double`, correctly rounded; one whose magnitude is beyond `Double` (`1e999999`) is refused as
///   "number out of range" (it has no finite value, and JSON has no infinity), one too small for
///   `Double` (`1e-999999`) is 0;
/// - a key twice in one object is refused (readers disagree on which one wins, so a checker and a
///   consumer could see different values);
/// - an escaped lone surrogate (`"\ud83d"`, which JavaScript writes for a cut emoji) reads as
///   U+FFFD, as JavaScript's own decoders do;
/// - arrays and objects nest at most ``AnyJSON/maximumDepth`` levels.
///
/// It runs in time linear in its input, over a buffer it does not copy; with `keeping`, the
/// top-level members not named are checked as thoroughly but never built, so a 100 MiB message
/// costs no 100 MiB string.
struct AnyJSONParser {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0
    private var depth = 0
    /// The top-level members to build; nil builds everything.
    private let keeping: Set<String>?
    /// Bytes of a string with escapes, reused from string to string.
    private var scratch: [UInt8] = []

    init(_ bytes: UnsafeBufferPointer<UInt8>, keeping: Set<String>?) {
        self.bytes = bytes
        self.keeping = keeping
    }

    /// Parses the whole buffer as one document.
    mutating func parseDocument() throws(AnyJSONError) -> AnyJSON {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { position = 3 }
        skipWhitespace()
        let value = try parseValue(build: true, topLevel: true)
        skipWhitespace()
        guard position == bytes.count else { throw fail("unexpected \(describe(position)) after the JSON value") }
        return value
    }

    private func fail(_ reason: String, at offset: Int? = nil) -> AnyJSONError {
        AnyJSONError(reason: reason, at: offset ?? position, in: bytes)
    }

    /// How an error names the byte at `offset`: `'x'` when printable ASCII, else its value.
    private func describe(_ offset: Int) -> String {
        guard offset < bytes.count else { return "end of input" }
        let byte = bytes[offset]
        if (0x21...0x7e).contains(byte) { return "character '\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0a, 0x0d, 0x09: position += 1
            default: return
            }
        }
    }

    /// The value at `position`; when `build` is false it is checked but not built (`.null` is returned).
    private mutating func parseValue(build: Bool, topLevel: Bool = false) throws(AnyJSONError) -> AnyJSON {
        guard position < bytes.count else { throw fail("unexpected end of input, expected a value") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject(build: build, topLevel: topLevel)
        case UInt8(ascii: "["): return try parseArray(build: build)
        case UInt8(ascii: "\""):
            let text = try parseString(build: build)
            return build ? .string(text) : .null
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw fail("unexpected \(describe(position)), expected a value")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(AnyJSONError) {
        let expected = UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        for (index, byte) in expected.enumerated() where position + index >= bytes.count || bytes[position + index] != byte {
            throw fail("invalid literal, expected '\(literal)'", at: position)
        }
        position += expected.count
    }

    private mutating func enter() throws(AnyJSONError) {
        depth += 1
        guard depth <= AnyJSON.maximumDepth else { throw fail("nesting deeper than \(AnyJSON.maximumDepth) levels") }
    }

    private mutating func parseObject(build: Bool, topLevel: Bool) throws(AnyJSONError) -> AnyJSON {
        try enter()
        defer { depth -= 1 }
        position += 1
        var members: [String: AnyJSON] = [:]
        // Keys are decoded even when values are not built: "a" and "\u0061" are the same key.
        var seen = Set<String>()
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return build ? .object(members) : .null
        }
        while true {
            skipWhitespace()
            guard position < bytes.count else { throw fail("unexpected end of input in an object") }
            guard bytes[position] == UInt8(ascii: "\"") else { throw fail("unexpected \(describe(position)), expected a string key") }
            let keyOffset = position
            let key = try parseString(build: true)
            guard seen.insert(key).inserted else { throw fail("duplicate key '\(key)'", at: keyOffset) }
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else {
                throw fail("unexpected \(describe(position)), expected ':'")
            }
            position += 1
            skipWhitespace()
            let buildMember = build && (!topLevel || keeping?.contains(key) ?? true)
            let value = try parseValue(build: buildMember)
            if buildMember { members[key] = value }
            skipWhitespace()
            guard position < bytes.count else { throw fail("unexpected end of input in an object") }
            switch bytes[position] {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"): position += 1; return build ? .object(members) : .null
            default: throw fail("unexpected \(describe(position)), expected ',' or '}'")
            }
        }
    }

    private mutating func parseArray(build: Bool) throws(AnyJSONError) -> AnyJSON {
        try enter()
        defer { depth -= 1 }
        position += 1
        var items: [AnyJSON] = []
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
            guard position < bytes.count else { throw fail("unexpected end of input in an array") }
            switch bytes[position] {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"): position += 1; return build ? .array(items) : .null
            default: throw fail("unexpected \(describe(position)), expected ',' or ']'")
            }
        }
    }

    private func isDigit(_ offset: Int) -> Bool {
        offset < bytes.count && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset])
    }

    private mutating func skipDigits() {
        while isDigit(position) { position += 1 }
    }

    private mutating func parseNumber() throws(AnyJSONError) -> AnyJSON {
        let start = position
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        guard isDigit(position) else { throw fail("unexpected \(describe(position)), expected a digit") }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
            if isDigit(position) { throw fail("leading zero in a number", at: start) }
        } else {
            skipDigits()
        }
        var integral = true
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard isDigit(position) else { throw fail("unexpected \(describe(position)), expected a digit after '.'") }
            skipDigits()
            integral = false
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard isDigit(position) else { throw fail("unexpected \(describe(position)), expected a digit in the exponent") }
            skipDigits()
            integral = false
        }
        let text = UnsafeBufferPointer(rebasing: bytes[start..<position])
        if integral, let integer = Self.int64(text) { return .integer(integer) }
        // The grammar above is a subset of what Double's parser reads, so it reads all of it.
        guard let number = Double(String(decoding: text, as: UTF8.self)), number.isFinite else {
            throw fail("number out of range (beyond ±\(Double.greatestFiniteMagnitude))", at: start)
        }
        return .number(number)
    }

    /// The value of an optionally negative run of digits, or nil beyond `Int64`.
    private static func int64(_ text: UnsafeBufferPointer<UInt8>) -> Int64? {
        let negative = text.first == UInt8(ascii: "-")
        // Accumulated negatively, so that Int64.min reads too.
        var value: Int64 = 0
        for byte in text.dropFirst(negative ? 1 : 0) {
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = shifted.subtractingReportingOverflow(Int64(byte &- UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = next
        }
        if negative { return value }
        return value == Int64.min ? nil : -value
    }

    /// The string at `position` (its opening quote); its text when `build`, else "" after checking it.
    private mutating func parseString(build: Bool) throws(AnyJSONError) -> String {
        let open = position
        position += 1
        var runStart = position
        scratch.removeAll(keepingCapacity: true)
        var escaped = false
        while true {
            skipPlainASCII()
            guard position < bytes.count else { throw fail("unterminated string", at: open) }
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                let run = UnsafeBufferPointer(rebasing: bytes[runStart..<position])
                position += 1
                guard build else { return "" }
                if !escaped { return String(decoding: run, as: UTF8.self) }
                scratch.append(contentsOf: run)
                return String(decoding: scratch, as: UTF8.self)
            case UInt8(ascii: "\\"):
                if build { scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<position])) }
                escaped = true
                try parseEscape(build: build)
                runStart = position
            case 0x00..<0x20:
                throw fail("unescaped control character U+00" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2) + " in a string")
            case 0x80...:
                try skipUTF8Sequence()
            default:
                position += 1
            }
        }
    }

    /// Moves past bytes that need no attention in a string (printable ASCII but `"` and `\`),
    /// eight at a time where it can: the loop long strings spend their time in.
    private mutating func skipPlainASCII() {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let base = UnsafeRawPointer(bytes.baseAddress)
        while bytes.count - position >= 8, let base {
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt64.self))
            // A byte is flagged when it is below 0x20, is '"' or '\', or has its high bit set.
            func zeroByte(_ x: UInt64) -> UInt64 { (x &- ones) & ~x & highs }
            let flagged = ((word &- ones &* 0x20) & ~word & highs) | zeroByte(word ^ (ones &* 0x22))
                | zeroByte(word ^ (ones &* 0x5c)) | (word & highs)
            if flagged != 0 { break }
            position += 8
        }
        while position < bytes.count {
            let byte = bytes[position]
            guard byte >= 0x20, byte < 0x80, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") else { return }
            position += 1
        }
    }

    /// Checks the UTF-8 sequence at `position` (its lead byte is 0x80 or above) and moves past it.
    private mutating func skipUTF8Sequence() throws(AnyJSONError) {
        let lead = bytes[position]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; secondRange = 0x80...0x9F
        case 0xF0: length = 4; secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondRange = 0x80...0x8F
        default: throw fail("invalid UTF-8 (byte 0x" + String(lead, radix: 16, uppercase: true) + ") in a string")
        }
        guard bytes.count - position >= length, secondRange.contains(bytes[position + 1]),
              (2..<length).allSatisfy({ (0x80...0xBF).contains(bytes[position + $0]) }) else {
            throw fail("invalid UTF-8 (byte 0x" + String(lead, radix: 16, uppercase: true) + ") in a string")
        }
        position += length
    }

    /// Reads the escape at `position` (its backslash), appending what it stands for when `build`.
    private mutating func parseEscape(build: Bool) throws(AnyJSONError) {
        let start = position
        position += 1
        guard position < bytes.count else { throw fail("unterminated string", at: start) }
        let escape = bytes[position]
        position += 1
        let simple: UInt8
        switch escape {
        case UInt8(ascii: "\""): simple = 0x22
        case UInt8(ascii: "\\"): simple = 0x5c
        case UInt8(ascii: "/"): simple = 0x2f
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "f"): simple = 0x0c
        case UInt8(ascii: "n"): simple = 0x0a
        case UInt8(ascii: "r"): simple = 0x0d
        case UInt8(ascii: "t"): simple = 0x09
        case UInt8(ascii: "u"):
            var scalar = try parseHex4(escapeAt: start)
            if (0xD800...0xDBFF).contains(scalar), bytes.count - position >= 6,
               bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") {
                let saved = position
                position += 2
                let low = try parseHex4(escapeAt: saved)
                if (0xDC00...0xDFFF).contains(low) {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    position = saved   // not a pair: the second escape is read on its own
                }
            }
            if build {
                // A lone surrogate is no scalar: U+FFFD stands for it.
                let unicode = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                scratch.append(contentsOf: UTF8.encode(unicode)!)
            }
            return
        default:
            throw fail("invalid escape '\\\(Character(Unicode.Scalar(escape)))'", at: start)
        }
        if build { scratch.append(simple) }
    }

    private mutating func parseHex4(escapeAt start: Int) throws(AnyJSONError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard position < bytes.count else { throw fail("unterminated \\u escape", at: start) }
            let byte = bytes[position]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw fail("invalid \\u escape, expected 4 hex digits", at: start)
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
