import Testing
import PFPluginKit

/// The reader of other programs' JSON: values, floating point, and errors with line, column and reason.
@Suite("AnyJSON")
struct AnyJSONTests {
    private func parse(_ text: String) throws(AnyJSONError) -> AnyJSON {
        try AnyJSON.parse(Array(text.utf8))
    }

    /// The error `text` gives, as `line L, column C: reason`.
    private func error(_ text: String) -> String {
        do { _ = try parse(text) } catch { return error.description }
        return "no error"
    }

    @Test("reads every kind of value, integers as Int64 and other numbers as Double")
    func values() throws {
        let value = try parse(#" {"a": [1, -2, 0, 1.5, -0.25e2, 1E+2, 9223372036854775807, -9223372036854775808], "b": {"c": null, "d": true, "e": false}, "s": "x\u00e9\n\ud83d\ude00"} "#)
        #expect(value["a"] == .array([.integer(1), .integer(-2), .integer(0), .number(1.5), .number(-25), .number(100),
                                      .integer(.max), .integer(.min)]))
        #expect(value["b"] == .object(["c": .null, "d": .bool(true), "e": .bool(false)]))
        #expect(value["s"] == .string("xé\n😀"))
        #expect(try parse("7") == .integer(7))
        #expect(try parse(#""top""#) == .string("top"))
        // Integers beyond Int64 are numbers, as before (Foundation's reading).
        #expect(try parse("9223372036854775808") == .number(9_223_372_036_854_775_808))
        #expect(try parse("-0") == .integer(0))
        #expect(try parse("1e-999999") == .number(0))
        // A UTF-8 byte order mark is skipped.
        #expect(try AnyJSON.parse([0xEF, 0xBB, 0xBF] + Array("[1]".utf8)) == .array([.integer(1)]))
        // An escaped lone surrogate reads as U+FFFD.
        #expect(try parse(#"["\ud83d", "\udc00x", "\ud83d\u0041"]"#) == .array([.string("\u{FFFD}"), .string("\u{FFFD}x"), .string("\u{FFFD}A")]))
    }

    @Test("each error gives the line, the column and the reason", arguments: [
        ("1e999999", "line 1, column 1: number out of range (beyond ±1.7976931348623157e+308)"),
        ("[1, -1e400]", "line 1, column 5: number out of range (beyond ±1.7976931348623157e+308)"),
        ("{\n  \"a\": 1,\n  \"b\" 2\n}", "line 3, column 7: unexpected character '2', expected ':'"),
        ("{\"a\": 1 \"b\": 2}", "line 1, column 9: unexpected character '\"', expected ',' or '}'"),
        ("[1 2]", "line 1, column 4: unexpected character '2', expected ',' or ']'"),
        ("{\"a\": 1, \"a\": 2}", "line 1, column 10: duplicate key 'a'"),
        ("{\"a\": 1, \"\\u0061\": 2}", "line 1, column 10: duplicate key 'a'"),
        ("{not json", "line 1, column 2: unexpected character 'n', expected a string key"),
        ("", "line 1, column 1: unexpected end of input, expected a value"),
        ("[1,", "line 1, column 4: unexpected end of input, expected a value"),
        ("\"abc", "line 1, column 1: unterminated string"),
        ("\"a\tb\"", "line 1, column 3: unescaped control character U+0009 in a string"),
        ("\"\\x\"", "line 1, column 2: invalid escape '\\x'"),
        ("\"\\u12g4\"", "line 1, column 2: invalid \\u escape, expected 4 hex digits"),
        ("01", "line 1, column 1: leading zero in a number"),
        ("-", "line 1, column 2: unexpected end of input, expected a digit"),
        ("1.", "line 1, column 3: unexpected end of input, expected a digit after '.'"),
        ("1e+", "line 1, column 4: unexpected end of input, expected a digit in the exponent"),
        ("tru", "line 1, column 1: invalid literal, expected 'true'"),
        ("NaN", "line 1, column 1: unexpected character 'N', expected a value"),
        ("[1] x", "line 1, column 5: unexpected character 'x' after the JSON value"),
        ("[\n\n  1,\n  ]", "line 4, column 3: unexpected character ']', expected a value"),
    ])
    func errors(text: String, expected: String) {
        #expect(error(text) == expected)
    }

    @Test("invalid UTF-8 is refused where it is")
    func invalidUTF8() {
        for bytes: [UInt8] in [[0x22, 0x61, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22]] {
            #expect(throws: AnyJSONError.self) { try AnyJSON.parse(bytes) }
        }
        do { _ = try AnyJSON.parse([0x22, 0x61, 0xFF, 0x22]) } catch {
            #expect(error.description == "line 1, column 3: invalid UTF-8 (byte 0xFF) in a string")
        }
        do { _ = try AnyJSON.parse([0x5B, 0xC3, 0xA9, 0x5D]) } catch {
            #expect(error.description == "line 1, column 2: unexpected byte 0xC3, expected a value")
        }
        // Valid multi-byte characters of every length pass, in long and short strings.
        let text = String(repeating: "aé€😀", count: 100)
        #expect((try? AnyJSON.parse(Array("\"\(text)\"".utf8))) == .string(text))
    }

    @Test("nesting: 512 levels are read, 513 and 100,000 are refused at the bracket that goes too deep")
    func nesting() throws {
        #expect(AnyJSON.maximumDepth == 512)
        let deepest = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        var value = try parse(deepest)
        for _ in 0..<511 { value = value.arrayValue![0] }
        #expect(value == .array([]))
        let tooDeep = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        #expect(error(tooDeep) == "line 1, column 513: nesting deeper than 512 levels")
        #expect(error(String(repeating: "[", count: 100_000)) == "line 1, column 513: nesting deeper than 512 levels")
        #expect(error(String(repeating: "{\"a\":", count: 100_000)) == "line 1, column 2561: nesting deeper than 512 levels")
    }

    @Test("keeping: only the named top-level members are built, every member is checked")
    func keeping() throws {
        let bytes = Array(#"{"role": "user", "content": {"huge": ["x", 1.5]}, "id": "m1"}"#.utf8)
        let kept = try bytes.withUnsafeBufferPointer { try AnyJSON.parse($0, keeping: ["role", "id"]) }
        #expect(kept == .object(["role": .string("user"), "id": .string("m1")]))
        let bad = Array(#"{"role": "user", "content": {"huge": [1e999]}}"#.utf8)
        #expect(throws: AnyJSONError.self) { try bad.withUnsafeBufferPointer { try AnyJSON.parse($0, keeping: ["role"]) } }
        let duplicate = Array(#"{"role": "user", "content": {"k": 1, "k": 2}}"#.utf8)
        #expect(throws: AnyJSONError.self) { try duplicate.withUnsafeBufferPointer { try AnyJSON.parse($0, keeping: ["role"]) } }
    }
}
