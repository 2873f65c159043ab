import Foundation
import Testing
@testable import PFHost

/// Schema patterns of the published shape are matched without `Regex`, with `Regex`'s verdicts.
@Suite("Schema patterns")
struct SchemaPatternTests {
    static let published = [
        "^[0-9a-f]{64}$", "^sha256:[0-9a-f]{64}$", "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
    ]
    static let others = [
        "^[a-z][a-z0-9-]{1,3}$", "^[a-z]{2,4}[0-9]{1,2}$", "^x\\.y[A-Z_]{3}$", "^[-a-c]{1,2}$", "^[a-c-]{2}$",
    ]
    static let slow = [
        "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$", "[0-9a-f]{64}", "^a|b$", "^[^a]{2}$",
        "^[a-z]{2,4}[a-z]$", "^[a-z]{2,}$", "^a*$", "^[a-z]{0,2}$",
    ]

    static func texts() -> [String] {
        let hex = String(repeating: "0123456789abcdef", count: 4)
        var texts = ["", "a", "sha256:", "sha256:" + hex, hex, String(hex.dropLast()), hex + "0", hex.uppercased(),
                     hex + "\n", "sha256:" + hex + "\n", "\n" + hex, "sha256:" + hex.uppercased(), "SHA256:" + hex,
                     "2026-11-28T09:15:00Z", "2026-11-28T09:15:00Z\n", "2026-11-28 09:15:00Z", "2026-11-28T09:15:00",
                     "ab1", "abcd12", "abcde1", "ab", "x.yABC", "xzyABC", "x.yAB_", "-a", "a-", "--", "c", "é" + hex,
                     "ａ", "a\u{0}", "abc12\u{0}"]
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("0123456789abcdefABZ:-_.xyT\n é")
        for length in [1, 2, 3, 5, 20, 63, 64, 65, 71, 72, 73] {
            for _ in 0..<20 { texts.append(String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })) }
        }
        return texts
    }

    @Test("the published patterns, and others of their shape, take the fast path")
    func fastShapes() {
        for source in Self.published + Self.others { #expect(SchemaPattern(source).isFast, "\(source)") }
    }

    @Test("alternation, groups, negated classes, open or zero counts and runs that would backtrack go to Regex")
    func slowShapes() {
        for source in Self.slow { #expect(!SchemaPattern(source).isFast, "\(source)") }
    }

    @Test("the fast path and Regex agree on every text", arguments: published + others)
    func agreesWithRegex(source: String) throws {
        let pattern = SchemaPattern(source)
        let regex = try Regex(source)
        for text in Self.texts() {
            let expected = (try? regex.firstMatch(in: text)) != nil
            let verdict = pattern.fastMatch(text)
            // nil is allowed only where Regex decides (a text ending in a newline).
            if let verdict { #expect(verdict == expected, "\(source) on \(text.debugDescription)") } else {
                #expect(text.hasSuffix("\n"), "\(source) gave no verdict on \(text.debugDescription)")
            }
        }
    }
}
