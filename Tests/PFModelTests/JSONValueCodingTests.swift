import Testing
@testable import PFModel

@Suite("Coding through JSONValue")
struct JSONValueCodingTests {
    struct Sample: Codable, Equatable {
        var name: String
        var count: Int
        var big: UInt64
        var flags: [Bool]
        var nested: [String: [Int]]
        var optional: String?
    }

    @Test("encodes and decodes without Foundation, nil keys left out")
    func roundTrip() throws {
        let sample = Sample(name: "x", count: -3, big: 7, flags: [true, false], nested: ["a": [1, 2]], optional: nil)
        let json = try CanonicalJSON.jsonValue(of: sample)
        #expect(String(decoding: CanonicalJSON.encode(json), as: UTF8.self)
            == #"{"big":7,"count":-3,"flags":[true,false],"name":"x","nested":{"a":[1,2]}}"#)
        #expect(try CanonicalJSON.decode(Sample.self, from: json) == sample)
    }

    @Test("refuses floating point and integers beyond Int64")
    func refuses() {
        struct Float: Encodable { var ratio = 0.5 }
        struct Huge: Encodable { var n = UInt64.max }
        #expect { try CanonicalJSON.jsonValue(of: Float()) } throws: { "\($0)".contains("has no canonical form") }
        #expect { try CanonicalJSON.jsonValue(of: Huge()) } throws: { "\($0)".contains("has no canonical form") }
    }

    @Test("decoding errors name the path")
    func errors() throws {
        let missing = try JSONParser.parse(Array(#"{"blobs":[{"media_type":"a","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}]}"#.utf8))
        struct Holder: Decodable { var blobs: [Descriptor] }
        #expect { try CanonicalJSON.decode(Holder.self, from: missing) } throws: { error in
            describeJSONError(error) == "missing key 'size' in blobs[0]"
        }
        #expect { try CanonicalJSON.decode(Sample.self, from: .object(["name": .int(1)])) } throws: { error in
            describeJSONError(error).hasPrefix("name is not of type String")
        }
        #expect { try CanonicalJSON.decode(Int8.self, from: .int(300)) } throws: { error in
            describeJSONError(error).contains("Int8")
        }
    }
}
