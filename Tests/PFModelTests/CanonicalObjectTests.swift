import Testing
@testable import PFModel

@Suite("Canonical objects recognised without parsing")
struct CanonicalObjectTests {
    /// What CanonicalObject promises: yes only for the bytes that parse and encode to themselves.
    private func agreesWithParser(_ bytes: [UInt8]) -> Bool {
        let recognised = CanonicalObject(bytes) != nil
        let roundTrips: Bool
        if case .object? = try? JSONParser.parse(bytes), CanonicalJSON.encode(try! JSONParser.parse(bytes)) == bytes {
            roundTrips = true
        } else {
            roundTrips = false
        }
        // Never a wrong yes; a no is allowed only for keys the scanner leaves to the parser.
        return recognised ? roundTrips : (!roundTrips || hasUnusualKeys(bytes))
    }

    private func hasUnusualKeys(_ bytes: [UInt8]) -> Bool {
        guard let value = try? JSONParser.parse(bytes) else { return false }
        var unusual = false
        func visit(_ value: JSONValue) {
            switch value {
            case .object(let members):
                for (key, member) in members {
                    if key.utf8.contains(where: { !(0x20...0x7e).contains($0) || $0 == 0x22 || $0 == 0x5c }) { unusual = true }
                    visit(member)
                }
            case .array(let items): items.forEach(visit)
            default: break
            }
        }
        visit(value)
        return unusual
    }

    @Test("recognises what CanonicalJSON writes, members and all")
    func recognisesCanonical() throws {
        let value = JSONValue.object([
            "kind": .string("world"), "plugin": .object(["id": .string("p"), "version": .string("1.0.0")]),
            "blobs": .array([.int(Int64.min), .int(Int64.max), .int(0), .int(-1)]),
            "text": .string("q\"b\\s/t\tn\nc\u{01}\u{1f}u\u{7f}é😀"), "flags": .array([.bool(true), .bool(false), .null]),
            "empty": .object([:]), "none": .array([]),
        ])
        let bytes = CanonicalJSON.encode(value)
        let object = try #require(CanonicalObject(bytes))
        #expect(object.members.map { String(decoding: $0.key, as: UTF8.self) } == ["blobs", "empty", "flags", "kind", "none", "plugin", "text"])
        #expect(object.string("kind") == "world")
        #expect(object.string("plugin") == nil)
        #expect(object.string("missing") == nil)
        let plugin = try #require(object.value("plugin"))
        #expect(String(decoding: bytes[plugin], as: UTF8.self) == #"{"id":"p","version":"1.0.0"}"#)
    }

    @Test("removing a member gives the canonical bytes of the object without it")
    func removing() throws {
        let members: [String: JSONValue] = ["a": .int(1), "kind": .string("trace"), "plugin": .object(["id": .string("x")]), "z": .null]
        for count in 1...members.count {
            for key in members.keys.sorted() {
                var subset = Dictionary(uniqueKeysWithValues: members.sorted { $0.key < $1.key }.prefix(count).map { ($0.key, $0.value) })
                let object = try #require(CanonicalObject(CanonicalJSON.encode(.object(subset))))
                subset[key] = nil
                #expect(object.removing(key) == CanonicalJSON.encode(.object(subset)), "\(key) of \(count)")
            }
        }
    }

    @Test("refuses every other form of the same value", arguments: [
        #"{ "a":1}"#, #"{"a" :1}"#, #"{"a":1 }"#, "{\"a\":1}\n", #" {"a":1}"#,
        #"{"b":1,"a":2}"#, #"{"a":1,"a":1}"#, #"{"a":-0}"#, #"{"a":01}"#, #"{"a":1.0}"#, #"{"a":1e3}"#,
        #"{"a":"\/"}"#, #"{"a":"\u0041"}"#, #"{"a":"\u000A"}"#, #"{"a":"\u000a"}"#, #"{"a":"\u001F"}"#, #"{"a":"\ud83d\ude00"}"#,
        #"{"a":9223372036854775808}"#, #"{"a":-9223372036854775809}"#, #"{"a":99999999999999999999}"#,
        #"[1]"#, #""a""#, "1", "", "{", #"{"a":1"#, #"{"a":1}x"#, #"{"a":tru}"#, #"{"a":[1,]}"#, #"{"a":1,}"#,
        #"{"\u0061":1}"#, #"{"a":"x"#, "{\"a\":\"\t\"}",
    ])
    func refusesOtherForms(text: String) {
        #expect(CanonicalObject(Array(text.utf8)) == nil)
        #expect(agreesWithParser(Array(text.utf8)))
    }

    @Test("the 64-bit extremes are canonical integers")
    func extremes() {
        #expect(CanonicalObject(Array(#"{"a":-9223372036854775808,"b":9223372036854775807}"#.utf8)) != nil)
    }

    @Test("refuses invalid UTF-8 and keys Swift compares by Unicode equivalence")
    func refusesBadText() {
        #expect(CanonicalObject([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0x22, 0x7d]) == nil)   // overlong "/"
        #expect(CanonicalObject([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]) == nil)   // a surrogate
        #expect(CanonicalObject(Array("{\"e\u{301}\":1,\"é\":2}".utf8)) == nil)
    }

    @Test("nests as deeply as the parser allows, and no deeper")
    func depth() {
        func nested(_ levels: Int) -> [UInt8] {
            Array(("{\"a\":" + String(repeating: "[", count: levels - 1) + String(repeating: "]", count: levels - 1) + "}").utf8)
        }
        #expect(CanonicalObject(nested(JSONParser.maximumDepth)) != nil)
        #expect(CanonicalObject(nested(JSONParser.maximumDepth + 1)) == nil)
    }

    @Test("never says yes to bytes that do not parse and encode to themselves (random edits of canonical objects)")
    func randomEdits() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array(#"{}[]",:\ 0123456789-abefnrtulsx.Eé"#.utf8) + [0x00, 0x0a, 0x1f, 0x7f, 0xc3, 0xa9, 0xff]
        func randomValue(_ depth: Int) -> JSONValue {
            switch Int.random(in: 0..<(depth > 3 ? 4 : 6), using: &generator) {
            case 0: return .int(Int64.random(in: -1000...1000, using: &generator))
            case 1: return .string(String((0..<Int.random(in: 0..<5, using: &generator)).map { _ in "aé\"\\\n\u{1}/z".randomElement(using: &generator)! }))
            case 2: return [.null, .bool(true), .bool(false)].randomElement(using: &generator)!
            case 3: return .int([Int64.min, Int64.max, 0, -1].randomElement(using: &generator)!)
            case 4: return .array((0..<Int.random(in: 0..<4, using: &generator)).map { _ in randomValue(depth + 1) })
            default:
                var members: [String: JSONValue] = [:]
                for _ in 0..<Int.random(in: 0..<4, using: &generator) { members[["a", "b", "kind", "plugin", "Z", "a b"].randomElement(using: &generator)!] = randomValue(depth + 1) }
                return .object(members)
            }
        }
        for _ in 0..<3000 {
            var members: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0..<5, using: &generator) { members[["a", "b", "kind", "plugin"].randomElement(using: &generator)!] = randomValue(1) }
            var bytes = CanonicalJSON.encode(.object(members))
            #expect(CanonicalObject(bytes) != nil)
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let at = Int.random(in: 0...bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0 where at < bytes.count: bytes.remove(at: at)
                case 1 where at < bytes.count: bytes[at] = alphabet.randomElement(using: &generator)!
                default: bytes.insert(alphabet.randomElement(using: &generator)!, at: at)
                }
            }
            #expect(agreesWithParser(bytes), "\(String(decoding: bytes, as: UTF8.self))")
        }
    }
}

@Suite("OCI documents written straight to canonical JSON")
struct OCIDocumentEncodingTests {
    @Test("an OCI manifest's canonicalJSON is CanonicalJSON.encode of it, for every optional member and text")
    func sameBytesAsEncodable() throws {
        var generator = SystemRandomNumberGenerator()
        func text() -> String { String((0..<Int.random(in: 0..<6, using: &generator)).map { _ in "aZ.é\"\\\n\u{1}/😀".randomElement(using: &generator)! }) }
        func annotations() -> [String: String]? {
            Bool.random(using: &generator) ? nil : Dictionary((0..<Int.random(in: 0..<4, using: &generator)).map { _ in (text(), text()) }, uniquingKeysWith: { a, _ in a })
        }
        func descriptor() -> OCIDescriptor {
            OCIDescriptor(mediaType: text(), digest: Digest.of(Array(text().utf8)), size: Int64.random(in: Int64.min...Int64.max, using: &generator),
                          artifactType: Bool.random(using: &generator) ? nil : text(), annotations: annotations())
        }
        for _ in 0..<500 {
            let manifest = OCIManifest(artifactType: Bool.random(using: &generator) ? nil : text(), config: descriptor(),
                                       layers: (0..<Int.random(in: 0..<5, using: &generator)).map { _ in descriptor() }, annotations: annotations())
            #expect(manifest.canonicalJSON == (try CanonicalJSON.encode(manifest)))
        }
    }
}
