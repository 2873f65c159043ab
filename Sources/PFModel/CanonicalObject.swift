/// A JSON object held as its canonical bytes, recognised without parsing it.
///
/// `CanonicalObject(bytes)` succeeds only when `bytes` are exactly what
/// `CanonicalJSON.encode(JSONParser.parse(bytes))` gives back and that value is an object: no
/// whitespace, keys sorted by their bytes and unique, strings escaped as ``CanonicalJSON`` escapes
/// them, valid UTF-8, integers without leading zeros within 64 bits, at most
/// ``JSONParser/maximumDepth`` levels. It is a single pass over the bytes with no allocation per
/// value, so documents pfhost wrote itself (layer configs are canonical) can be checked and
/// handed on as they are, where parsing and encoding them again cost milliseconds per snapshot.
///
/// It answers nil (never a wrong yes) for anything else, including valid JSON in another form and
/// object keys outside printable ASCII or with escapes (Swift compares such keys by Unicode
/// equivalence, not by bytes); the caller then parses the bytes as usual.
///
/// ```swift
/// if let object = CanonicalObject(config), object.string("kind") == "world" { hand(config) }
/// ```
public struct CanonicalObject: Sendable {
    /// The object's canonical bytes.
    public let bytes: [UInt8]
    /// The top-level members, in order: each key (its bytes, unquoted) and the byte range of its value.
    public let members: [(key: [UInt8], value: Range<Int>)]

    /// The object `bytes` are, when they are canonical JSON; nil otherwise.
    public init?(_ bytes: [UInt8]) {
        guard CanonicalJSON.isValidUTF8(bytes) else { return nil }
        var scanner = CanonicalScanner(bytes: bytes)
        guard let members = scanner.topLevelObject() else { return nil }
        self.bytes = bytes
        self.members = members
    }

    /// The value of the top-level member `key` when it is a string without escapes.
    public func string(_ key: String) -> String? {
        guard let range = value(key), range.count >= 2, bytes[range.lowerBound] == UInt8(ascii: "\"") else { return nil }
        let inner = bytes[(range.lowerBound + 1)..<(range.upperBound - 1)]
        guard !inner.contains(UInt8(ascii: "\\")) else { return nil }
        return String(decoding: inner, as: UTF8.self)
    }

    /// The byte range of the value of the top-level member `key`, if there is one.
    public func value(_ key: String) -> Range<Int>? {
        let wanted = Array(key.utf8)
        return members.first { $0.key == wanted }?.value
    }

    /// The canonical bytes of this object without its member `key` (the same bytes when it has none).
    public func removing(_ key: String) -> [UInt8] {
        let wanted = Array(key.utf8)
        guard let index = members.firstIndex(where: { $0.key == wanted }) else { return bytes }
        // The member runs from its opening quote to the end of its value; the comma before it goes
        // with it (or, for the first member, the comma after it).
        let value = members[index].value
        let start = value.lowerBound - wanted.count - 3   // `"key":`
        var cut = start..<value.upperBound
        if index > 0 { cut = (start - 1)..<value.upperBound } else if members.count > 1 { cut = start..<(value.upperBound + 1) }
        var out = bytes
        out.removeSubrange(cut)
        return out
    }
}

/// The single pass behind ``CanonicalObject``.
private struct CanonicalScanner {
    let bytes: [UInt8]
    var position = 0
    var depth = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func topLevelObject() -> [(key: [UInt8], value: Range<Int>)]? {
        var members: [(key: [UInt8], value: Range<Int>)] = []
        guard current == UInt8(ascii: "{"), object({ members.append(($0, $1)) }), position == bytes.count else { return nil }
        return members
    }

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func value() -> Bool {
        guard let byte = current else { return false }
        switch byte {
        case UInt8(ascii: "{"): return object { _, _ in }
        case UInt8(ascii: "["): return array()
        case UInt8(ascii: "\""): return string()
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return integer()
        default: return false
        }
    }

    private mutating func enter() -> Bool {
        depth += 1
        return depth <= JSONParser.maximumDepth
    }

    /// An object; `member` is told each key and its value's range.
    private mutating func object(_ member: ([UInt8], Range<Int>) -> Void) -> Bool {
        guard enter() else { return false }
        defer { depth -= 1 }
        position += 1
        if current == UInt8(ascii: "}") { position += 1; return true }
        var previous: ArraySlice<UInt8>?
        while true {
            // Keys: printable ASCII without escapes, strictly increasing by bytes.
            guard current == UInt8(ascii: "\"") else { return false }
            let keyStart = position + 1
            var end = keyStart
            while end < bytes.count, bytes[end] != UInt8(ascii: "\"") {
                guard (0x20...0x7e).contains(bytes[end]), bytes[end] != UInt8(ascii: "\\") else { return false }
                end += 1
            }
            guard end < bytes.count else { return false }
            let key = bytes[keyStart..<end]
            if let previous, !previous.lexicographicallyPrecedes(key) { return false }
            previous = key
            position = end + 1
            guard current == UInt8(ascii: ":") else { return false }
            position += 1
            let valueStart = position
            guard value() else { return false }
            member(Array(key), valueStart..<position)
            switch current {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"): position += 1; return true
            default: return false
            }
        }
    }

    private mutating func array() -> Bool {
        guard enter() else { return false }
        defer { depth -= 1 }
        position += 1
        if current == UInt8(ascii: "]") { position += 1; return true }
        while true {
            guard value() else { return false }
            switch current {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"): position += 1; return true
            default: return false
            }
        }
    }

    /// A string as ``CanonicalJSON`` writes it (the bytes' UTF-8 was checked as a whole).
    private mutating func string() -> Bool {
        position += 1
        while let byte = current {
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return true
            case UInt8(ascii: "\\"):
                guard position + 1 < bytes.count else { return false }
                switch bytes[position + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                     UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    position += 2
                case UInt8(ascii: "u"):
                    // Only control characters without a short escape, in lower-case hex.
                    guard position + 5 < bytes.count, bytes[position + 2] == UInt8(ascii: "0"), bytes[position + 3] == UInt8(ascii: "0"),
                          let high = Self.hexDigit(bytes[position + 4]), let low = Self.hexDigit(bytes[position + 5]) else { return false }
                    let scalar = high << 4 | low
                    guard scalar < 0x20, ![0x08, 0x09, 0x0a, 0x0c, 0x0d].contains(scalar) else { return false }
                    position += 6
                default:
                    return false
                }
            case 0x00..<0x20:
                return false
            default:
                position += 1
            }
        }
        return false
    }

    private static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    private mutating func literal(_ text: StaticString) -> Bool {
        let expected = UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
        guard bytes.count - position >= expected.count,
              bytes[position..<(position + expected.count)].elementsEqual(expected) else { return false }
        position += expected.count
        return true
    }

    /// `0`, or a non-zero digit and more digits, after a `-` unless zero; within `Int64`.
    private mutating func integer() -> Bool {
        let negative = current == UInt8(ascii: "-")
        if negative { position += 1 }
        let start = position
        while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { position += 1 }
        let digits = bytes[start..<position]
        guard let first = digits.first else { return false }
        if first == UInt8(ascii: "0") { return digits.count == 1 && !negative }
        guard digits.count <= 19 else { return false }
        if digits.count < 19 { return true }
        let limit = Array((negative ? "9223372036854775808" : "9223372036854775807").utf8)
        return !limit.lexicographicallyPrecedes(digits)
    }
}
