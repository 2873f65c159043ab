/// Text from outside (a plugin's messages, names from a snapshot someone else made, file names an
/// agent chose) made safe to print on a terminal or in a log: control characters are written as
/// escapes, so a file named `x\n[fake line]\e[2J` cannot forge log lines or drive the terminal.
public enum DisplayText {
    /// `text` with every C0 control character, DEL and C1 control character written as an escape
    /// (`\n`, `\t`, `\r`, `\e`, else `\u{XX}`), and backslashes left as they are.
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

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value)
    }
}
