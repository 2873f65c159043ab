/// Text from outside (a plugin's messages, names from a snapshot someone else made, file names an
/// agent chose) made safe to print on a terminal or in a log: control characters are written as
/// escapes, so a file named `x\n[fake line]\e[2J` cannot forge log lines or drive the terminal.
public enum DisplayText {
    /// `text` with every C0 control character, DEL, C1 control character and bidirectional
    /// formatting character written as an escape (`\n`, `\t`, `\r`, `\e`, else `\u{XX}`), and
    /// backslashes left as they are.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            guard isControl(scalar) else {
                out.unicodeScalars.append(scalar)
                continue
            }
            switch scalar {
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\u{1B}": out += "\\e"
            default: out += "\\u{" + String(scalar.value, radix: 16) + "}"
            }
        }
        return out
    }

    /// A name that is bytes (a file name, a link target) made printable: valid UTF-8 is escaped as
    /// ``escaped(_:)`` does, and each byte that is not part of valid UTF-8 is written `\x{HH}`, so
    /// `bad\xff` and `bad\u{FFFD}` read differently. Machine-readable output gives the exact bytes.
    public static func escaped(bytes: [UInt8]) -> String {
        var out = ""
        var rest = bytes[...]
        while !rest.isEmpty {
            // The longest prefix that is valid UTF-8, then one byte that is not.
            var valid = rest.endIndex
            var decoder = UTF8()
            var iterator = rest.makeIterator()
            var consumed = rest.startIndex
            decoding: while true {
                switch decoder.decode(&iterator) {
                case .scalarValue(let scalar): consumed += UTF8.width(scalar)
                case .emptyInput: break decoding
                case .error:
                    valid = consumed
                    break decoding
                }
            }
            out += escaped(String(decoding: rest[..<valid], as: UTF8.self))
            guard valid < rest.endIndex else { break }
            out += "\\x{" + String(rest[valid], radix: 16) + "}"
            rest = rest[(valid + 1)...]
        }
        return out
    }

    /// C0 and C1 controls, DEL, and the bidirectional formatting characters (U+200E, U+200F,
    /// U+202A–U+202E, U+2066–U+2069), with which a name could make a line read in another order.
    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        return value < 0x20 || (0x7f...0x9f).contains(value) || value == 0x200E || value == 0x200F
            || (0x202A...0x202E).contains(value) || (0x2066...0x2069).contains(value)
    }
}
