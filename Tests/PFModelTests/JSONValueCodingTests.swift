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

    // MARK: every primitive type terminates with the right value or a clear error (issue 10)

    /// `value` encoded, as canonical JSON text, and decoded back.
    private func roundTrip<T: Codable & Equatable>(_ value: T) throws -> String {
        let json = try CanonicalJSON.jsonValue(of: value)
        #expect(try CanonicalJSON.decode(T.self, from: json) == value)
        return String(decoding: CanonicalJSON.encode(json), as: UTF8.self)
    }

    /// The message of the error `body` throws.
    private func message(_ body: () throws -> Void) -> String {
        do { try body() } catch { return "\(error)" }
        return "no error"
    }

    @Test("every integer width round-trips its extremes, alone, in arrays and as fields")
    func integerWidths() throws {
        #expect(try roundTrip(Int8.min) == "-128" && roundTrip(Int8.max) == "127")
        #expect(try roundTrip(Int16.min) == "-32768" && roundTrip(Int16.max) == "32767")
        #expect(try roundTrip(Int32.min) == "-2147483648" && roundTrip(UInt32.max) == "4294967295")
        #expect(try roundTrip(Int64.min) == "-9223372036854775808" && roundTrip(Int.max) == "9223372036854775807")
        #expect(try roundTrip(UInt8.max) == "255" && roundTrip(UInt16.max) == "65535")
        #expect(try roundTrip(UInt(Int64.max)) == "9223372036854775807")
        #expect(try roundTrip(UInt64(Int64.max)) == "9223372036854775807")
        #expect(try roundTrip(Int128(-5)) == "-5" && roundTrip(UInt128(7)) == "7")
        #expect(try roundTrip([UInt8]([0, 1, 255])) == "[0,1,255]")
        #expect(try roundTrip([UInt64]([0, 1, UInt64(Int64.max)])) == "[0,1,9223372036854775807]")
        #expect(try roundTrip([Int8]([-128, 127])) == "[-128,127]")
        #expect(try roundTrip([UInt16]([65535])) == "[65535]")
        #expect(try roundTrip([Int128]([1, -1])) == "[1,-1]")
        #expect(try roundTrip(["a": UInt8(1)]) == #"{"a":1}"#)

        struct Widths: Codable, Equatable {
            var i8: Int8 = -1, i16: Int16 = -2, i32: Int32 = -3, u8: UInt8 = 4, u16: UInt16 = 5, u32: UInt32 = 6
            var u: UInt = 7, u64: UInt64 = 8, i128: Int128 = -9, u128: UInt128 = 10
        }
        #expect(try roundTrip(Widths()) == #"{"i128":-9,"i16":-2,"i32":-3,"i8":-1,"u":7,"u128":10,"u16":5,"u32":6,"u64":8,"u8":4}"#)
    }

    @Test("integers beyond Int64 are refused on encoding, values beyond the type on decoding, saying which")
    func integerRanges() throws {
        #expect(message { _ = try CanonicalJSON.jsonValue(of: UInt64.max) }.contains("UInt64 value 18446744073709551615 is beyond Int64"))
        #expect(message { _ = try CanonicalJSON.jsonValue(of: [UInt.max]) }.contains("at [0]: UInt value"))
        #expect(message { _ = try CanonicalJSON.jsonValue(of: Int128.min) }.contains("is beyond Int64"))
        #expect(message { _ = try CanonicalJSON.jsonValue(of: ["k": UInt128.max]) }.contains("at k: UInt128 value"))
        #expect(summary(of: { _ = try CanonicalJSON.decode(UInt8.self, from: .int(256)) }) == "256 is out of the range of UInt8")
        #expect(summary(of: { _ = try CanonicalJSON.decode([UInt64].self, from: .array([.int(-1)])) }) == "[0]: -1 is out of the range of UInt64")
        #expect(summary(of: { _ = try CanonicalJSON.decode(Int8.self, from: .string("1")) }) == "the top level is not of type Int8")
    }

    /// The one-line description of the error `body` throws.
    private func summary(of body: () throws -> Void) -> String {
        do { try body() } catch { return PFModel.describeJSONError(error) }
        return "no error"
    }

    @Test("enums backed by any integer type round-trip")
    func integerEnums() throws {
        enum Small: UInt8, Codable { case a = 1, b = 255 }
        enum Signed: Int8, Codable { case low = -128 }
        enum Wide: UInt64, Codable { case big = 9_000_000_000_000_000_000 }
        enum Word: UInt, Codable { case one = 1 }
        #expect(try roundTrip(Small.b) == "255")
        #expect(try roundTrip([Small.a, .b]) == "[1,255]")
        #expect(try roundTrip(["x": Signed.low]) == #"{"x":-128}"#)
        #expect(try roundTrip(Word.one) == "1")
        #expect(try roundTrip(Wide.big) == "9000000000000000000")
        #expect(summary(of: { _ = try CanonicalJSON.decode(Small.self, from: .int(2)) }).contains("Cannot initialize Small from invalid UInt8 value 2"))
    }

    @Test("Float and Double are refused on encoding, and decode only from integers they hold exactly")
    func floatingPoint() throws {
        #expect(message { _ = try CanonicalJSON.jsonValue(of: Float(1.5)) }.contains("Float value 1.5 is floating point"))
        #expect(message { _ = try CanonicalJSON.jsonValue(of: [Double(2)]) }.contains("Double value 2.0 is floating point"))
        #expect(message { _ = try CanonicalJSON.jsonValue(of: ["f": [Float(0)]]) }.contains("at f[0]"))
        #if !(os(macOS) && arch(x86_64))
        #expect(message { _ = try CanonicalJSON.jsonValue(of: Float16(1)) }.contains("Float value 1.0 is floating point"))
        #endif
        #expect(try CanonicalJSON.decode(Float.self, from: .int(3)) == 3)
        #expect(try CanonicalJSON.decode([Double].self, from: .array([.int(-7)])) == [-7])
        #expect(summary(of: { _ = try CanonicalJSON.decode(Double.self, from: .int(9_007_199_254_740_993)) }) == "9007199254740993 has no exact Double value")
        #expect(summary(of: { _ = try CanonicalJSON.decode(Float.self, from: .string("1.5")) }) == "the top level is not of type Float")
    }

    /// A subclass coding its superclass through `superEncoder()`/`superDecoder()`, with coding keys
    /// that have no `super` case (the old bridge force-unwrapped `Key(stringValue: "super")`).
    class Base: Codable {
        var id: UInt8
        init(id: UInt8) { self.id = id }
    }

    final class Derived: Base, Equatable {
        var name: String
        enum CodingKeys: String, CodingKey { case name }
        init(id: UInt8, name: String) {
            self.name = name
            super.init(id: id)
        }
        required init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            try super.init(from: container.superDecoder())
        }
        override func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try super.encode(to: container.superEncoder())
        }
        static func == (a: Derived, b: Derived) -> Bool { a.id == b.id && a.name == b.name }
    }

    /// `superEncoder(forKey:)` and `superDecoder(forKey:)`.
    struct SuperForKey: Codable, Equatable {
        var base: UInt16
        enum CodingKeys: String, CodingKey { case parent }
        init(base: UInt16) { self.base = base }
        init(from decoder: any Decoder) throws {
            base = try UInt16(from: decoder.container(keyedBy: CodingKeys.self).superDecoder(forKey: .parent))
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try base.encode(to: container.superEncoder(forKey: .parent))
        }
    }

    /// The unkeyed containers' `superEncoder()` and `superDecoder()`.
    struct SuperInList: Codable, Equatable {
        var first: UInt8
        var second: UInt64
        init(first: UInt8, second: UInt64) {
            self.first = first
            self.second = second
        }
        init(from decoder: any Decoder) throws {
            var list = try decoder.unkeyedContainer()
            first = try UInt8(from: list.superDecoder())
            second = try list.decode(UInt64.self)
        }
        func encode(to encoder: any Encoder) throws {
            var list = encoder.unkeyedContainer()
            try first.encode(to: list.superEncoder())
            try list.encode(second)
        }
    }

    @Test("super encoders and decoders work with keys that have no super case")
    func superCoders() throws {
        #expect(try roundTrip(Derived(id: 200, name: "d")) == #"{"name":"d","super":{"id":200}}"#)
        #expect(try roundTrip([Derived(id: 1, name: "a")]) == #"[{"name":"a","super":{"id":1}}]"#)
        #expect(try roundTrip(SuperForKey(base: 65535)) == #"{"parent":65535}"#)
        #expect(try roundTrip(SuperInList(first: 9, second: 10)) == "[9,10]")
        // A missing super reads as null, and decoding it names the super key.
        #expect(summary(of: { _ = try CanonicalJSON.decode(Derived.self, from: .object(["name": .string("x")])) })
            .hasPrefix("super is null"))
    }
}
