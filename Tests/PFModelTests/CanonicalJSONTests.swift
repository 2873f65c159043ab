import Testing
@testable import PFModel

@Suite("Canonical JSON")
struct CanonicalJSONTests {
    private func text(_ value: JSONValue) -> String {
        String(decoding: CanonicalJSON.encode(value), as: UTF8.self)
    }

    @Test("sorts keys by UTF-8 bytes and writes no whitespace")
    func sortedCompact() {
        let value = JSONValue.object([
            "b": .int(2), "a": .array([.bool(true), .null, .int(-7)]), "B": .string("x"), "é": .int(0), "aa": .object([:]),
        ])
        #expect(text(value) == #"{"B":"x","a":[true,null,-7],"aa":{},"b":2,"é":0}"#)
    }

    @Test("escapes only quote, backslash and control characters")
    func escaping() {
        let value = JSONValue.string("q\"b\\s/t\tn\nc\u{01}u\u{7f}é😀")
        #expect(text(value) == "\"q\\\"b\\\\s/t\\tn\\nc\\u0001u\u{7f}é😀\"")
    }

    @Test("writes integers in decimal, every width and sign", arguments: [
        Int64.min, Int64.min + 1, -1_000_000_000_000_000_000, -10, -9, -1, 0, 1, 9, 10, 99, 100,
        1_764_268_800_123_456_789, Int64.max - 1, Int64.max,
    ])
    func integers(number: Int64) {
        var out: [UInt8] = []
        CanonicalJSON.appendInteger(number, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == String(number))
        #expect(text(.int(number)) == String(number))
    }

    @Test("is a fixed point: parse then encode gives the same bytes")
    func fixedPoint() throws {
        let input = #"  { "z" : [1, 2, {"y": "\u00e9\/"}], "a": false }  "#
        let first = CanonicalJSON.encode(try JSONParser.parse(Array(input.utf8)))
        #expect(String(decoding: first, as: UTF8.self) == #"{"a":false,"z":[1,2,{"y":"é/"}]}"#)
        #expect(CanonicalJSON.encode(try JSONParser.parse(first)) == first)
    }

    @Test("encodes Codable values canonically")
    func codable() throws {
        let descriptor = Descriptor(mediaType: "text/plain", digest: Digest.of([]), size: 0)
        let bytes = try CanonicalJSON.encode(descriptor)
        #expect(String(decoding: bytes, as: UTF8.self)
            == #"{"digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","media_type":"text/plain","size":0}"#)
    }

    @Test("refuses what has no single reading", arguments: [
        (#"{"a":1,"a":2}"#, "duplicate key 'a'"),
        ("1.5", "floating-point numbers are not allowed"),
        ("1e3", "floating-point numbers are not allowed"),
        ("01", "leading zero"),
        ("99999999999999999999", "out of the 64-bit range"),
        (#""\ud800""#, "lone surrogate"),
        ("[1,]", "unexpected character"),
        ("{} x", "unexpected data after the JSON value"),
        (#""abc"#, "unterminated string"),
        ("", "unexpected end of input"),
    ])
    func rejects(input: String, reason: String) {
        #expect {
            try JSONParser.parse(Array(input.utf8))
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test("otherPrograms reads JSON as the plugin kit does: any number (a non-64-bit-integer one as null, refused when no float holds it), a lone surrogate as U+FFFD")
    func otherPrograms() throws {
        let value = try JSONParser.parse(Array(#"{"a":1.5,"b":1e3,"c":-2.5E-7,"d":99999999999999999999,"e":-7,"f":0}"#.utf8), otherPrograms: true)
        #expect(value == .object(["a": .null, "b": .null, "c": .null, "d": .null, "e": .int(-7), "f": .int(0)]))
        for malformed in ["01", "1.", "1e", "-", "1.e3", "-a", ".5", "+1", "1e400", String(repeating: "9", count: 400)] {
            #expect(throws: JSONParseError.self, "\(malformed)") { try JSONParser.parse(Array(malformed.utf8), otherPrograms: true) }
        }
        let surrogates = try JSONParser.parse(Array(#"["\ud83d","\ude00x","\ud83d\u0041","\ud83d\ude00"]"#.utf8), otherPrograms: true)
        #expect(surrogates == .array([.string("\u{FFFD}"), .string("\u{FFFD}x"), .string("\u{FFFD}A"), .string("😀")]))
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array(#""\ud83d""#.utf8)) }
    }

    @Test("keeping builds only the top-level members named, and judges the rest as strictly")
    func keeping() throws {
        let line = Array(#"{"role":"user","content":{"parts":[1,2.5,"x"]},"id":"m1"}"#.utf8)
        #expect(try JSONParser.parse(line, otherPrograms: true, keeping: ["role", "id"]) == .object(["role": .string("user"), "id": .string("m1")]))
        for bad in [#"{"role":"user","content":{"a":1,"a":2}}"#, #"{"role":"user","content":[1,]}"#, #"{"role":"user","role":"tool"}"#,
                    #"{"role":"user","content":"\x"}"#, #"{"content":1e400}"#] {
            #expect(throws: JSONParseError.self, "\(bad)") { try JSONParser.parse(Array(bad.utf8), otherPrograms: true, keeping: ["role"]) }
        }
        #expect(try JSONParser.parse(Array("[1]".utf8), otherPrograms: true, keeping: ["role"]) == .array([.int(1)]))
    }

    @Test("parses the 64-bit integer range exactly")
    func integerRange() throws {
        #expect(try JSONParser.parse(Array("-9223372036854775808".utf8)) == .int(Int64.min))
        #expect(try JSONParser.parse(Array("9223372036854775807".utf8)) == .int(Int64.max))
        #expect(try JSONParser.parse(Array("[0,-1,42]".utf8)) == .array([.int(0), .int(-1), .int(42)]))
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array("9223372036854775808".utf8)) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array("-9223372036854775809".utf8)) }
    }

    @Test("refuses invalid UTF-8")
    func invalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xff, 0x22]) }
    }

    @Test("decodes surrogate pairs")
    func surrogates() throws {
        #expect(try JSONParser.parse(Array(#""\ud83d\ude00""#.utf8)) == .string("😀"))
    }
}
