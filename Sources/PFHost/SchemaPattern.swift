/// A schema's `pattern`, matched by a small automaton when it has the shape the published schemas
/// use, else by `Regex`.
///
/// The published patterns are anchored runs of ASCII character classes and literals
/// (`^sha256:[0-9a-f]{64}$`, `^[0-9]{4}-[0-9]{2}-…Z$`): matching one is a walk over the string's
/// bytes, where compiling and running a `Regex` for every layer cost a snapshot more than the rest of
/// its schema check. A pattern is taken by the fast path only when it is exactly
/// `^` (piece)* `$`, each piece a literal ASCII character (letters, digits, `-`, `:`, `_`, `.` escaped
/// as `\.`) or a class `[…]` of ASCII characters and ranges, optionally followed by `{n}` or
/// `{n,m}` with n ≥ 1, a variable run never followed by a piece sharing one of its bytes; anything else, and any text ending in a newline (where `$` may match before it), goes to
/// `Regex`, so the verdicts are `Regex`'s. `SchemaPatternTests` compares the two.
struct SchemaPattern {
    /// One position of a fast pattern: a set of bytes that must occur `minimum…maximum` times.
    private struct Piece {
        var accepted: (UInt64, UInt64)
        var minimum: Int
        var maximum: Int

        func accepts(_ byte: UInt8) -> Bool {
            byte < 64 ? accepted.0 & (1 << UInt64(byte)) != 0
                : byte < 128 ? accepted.1 & (1 << UInt64(byte - 64)) != 0 : false
        }
    }

    /// The pattern's source, as the schema writes it.
    let source: String
    private let pieces: [Piece]?

    /// The pattern `source`; ``isFast`` says whether it is matched without `Regex`.
    init(_ source: String) {
        self.source = source
        pieces = Self.compile(Array(source.utf8))
    }

    /// Whether the pattern is matched by the automaton rather than by `Regex`.
    var isFast: Bool { pieces != nil }

    /// Whether `text` matches, or `nil` when the automaton cannot say (use `Regex`).
    func fastMatch(_ text: String) -> Bool? {
        guard let pieces, text.utf8.last != UInt8(ascii: "\n") else { return nil }
        var utf8 = text.utf8.makeIterator()
        var pending = utf8.next()
        // Greedy is exact here: compile refuses a run that could give bytes back to its successor.
        for piece in pieces {
            var count = 0
            while count < piece.maximum, let byte = pending, piece.accepts(byte) {
                count += 1
                pending = utf8.next()
            }
            guard count >= piece.minimum else { return false }
        }
        return pending == nil
    }

    /// The pieces of a pattern of the fast shape, or nil.
    private static func compile(_ bytes: [UInt8]) -> [Piece]? {
        guard bytes.count >= 2, bytes.first == UInt8(ascii: "^"), bytes.last == UInt8(ascii: "$") else { return nil }
        var pieces: [Piece] = []
        var at = 1
        let end = bytes.count - 1
        func isPlain(_ byte: UInt8) -> Bool {
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ":")
                || byte == UInt8(ascii: "_")
        }
        func set(_ accepted: inout (UInt64, UInt64), _ byte: UInt8) {
            if byte < 64 { accepted.0 |= 1 << UInt64(byte) } else { accepted.1 |= 1 << UInt64(byte - 64) }
        }
        while at < end {
            var accepted: (UInt64, UInt64) = (0, 0)
            let byte = bytes[at]
            if byte == UInt8(ascii: "[") {
                at += 1
                var members = 0
                while at < end, bytes[at] != UInt8(ascii: "]") {
                    let low = bytes[at]
                    guard isPlain(low) || low == UInt8(ascii: "+") || low == UInt8(ascii: "/") else { return nil }
                    if low != UInt8(ascii: "-"), at + 2 < end, bytes[at + 1] == UInt8(ascii: "-"), bytes[at + 2] != UInt8(ascii: "]") {
                        let high = bytes[at + 2]
                        guard isPlain(high), high != UInt8(ascii: "-"), low <= high else { return nil }
                        for member in low...high { set(&accepted, member) }
                        at += 3
                    } else {
                        // A '-' is literal only first or last in the class.
                        if low == UInt8(ascii: "-"), members > 0, at + 1 < end, bytes[at + 1] != UInt8(ascii: "]") { return nil }
                        set(&accepted, low)
                        at += 1
                    }
                    members += 1
                }
                guard at < end, members > 0 else { return nil }
                at += 1  // ']'
            } else if byte == UInt8(ascii: "\\"), at + 1 < end, bytes[at + 1] == UInt8(ascii: ".") {
                set(&accepted, UInt8(ascii: "."))
                at += 2
            } else if isPlain(byte) {
                set(&accepted, byte)
                at += 1
            } else {
                return nil
            }
            var minimum = 1, maximum = 1
            if at < end, bytes[at] == UInt8(ascii: "{") {
                guard let close = bytes[at...].firstIndex(of: UInt8(ascii: "}")), close < end else { return nil }
                let inside = bytes[(at + 1)..<close].split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
                guard inside.count <= 2, let low = number(inside[0]) else { return nil }
                let high = inside.count == 2 ? number(inside[1]) : low
                guard let high, low >= 1, low <= high else { return nil }
                (minimum, maximum) = (low, high)
                at = close + 1
            }
            // Every piece takes at least one byte, so a greedy run can only end where the next piece
            // starts if that piece accepts none of the run's bytes; else matching would need backtracking.
            if let previous = pieces.last, previous.minimum != previous.maximum,
               previous.accepted.0 & accepted.0 != 0 || previous.accepted.1 & accepted.1 != 0 {
                return nil
            }
            pieces.append(Piece(accepted: accepted, minimum: minimum, maximum: maximum))
        }
        return pieces
    }

    /// A decimal count of at most four digits.
    private static func number(_ digits: ArraySlice<UInt8>) -> Int? {
        guard (1...4).contains(digits.count), digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    }
}
