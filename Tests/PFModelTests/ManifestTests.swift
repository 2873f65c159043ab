import Foundation
import Testing
@testable import PFModel

@Suite("Manifest")
struct ManifestTests {
    @Test("round-trips through canonical JSON, byte for byte")
    func roundTrip() throws {
        let manifest = Fixtures.manifest
        let bytes = try CanonicalJSON.encode(manifest)
        let decoded = try CanonicalJSON.decode(Manifest.self, from: bytes)
        #expect(decoded == manifest)
        #expect(try CanonicalJSON.encode(decoded) == bytes)
    }

    @Test("writes snake_case keys with the layer fields beside the common ones")
    func keys() throws {
        let json = try CanonicalJSON.jsonValue(of: Fixtures.manifest)
        let keys = json.objectValue.map { Set($0.keys) }
        #expect(keys == ["schema_version", "media_type", "agent", "model", "cache", "world", "effects", "trace", "created_at", "parents"])
        let cache = try #require(json["cache"]?.objectValue)
        #expect(cache["kind"] == .string("cache"))
        #expect(cache["tokens_per_page"] == .int(16))
        #expect(cache["plugin"]?["id"] == .string("org.example.cache"))
    }

    @Test("a layer of another kind does not decode")
    func wrongKind() throws {
        let trace = try CanonicalJSON.encode(Fixtures.manifest.trace)
        #expect {
            try CanonicalJSON.decode(ModelLayer.self, from: trace)
        } throws: { error in
            "\(error)".contains("layer kind is 'trace', expected 'model'")
        }
    }

    @Test("refuses another schema version")
    func schemaVersion() throws {
        var json = try #require(try CanonicalJSON.jsonValue(of: Fixtures.manifest).objectValue)
        json["schema_version"] = .int(2)
        #expect {
            try CanonicalJSON.decode(Manifest.self, from: JSONValue.object(json))
        } throws: { error in
            "\(error)".contains("schema_version 2 is not supported")
        }
    }

    @Test("layer kinds map to the ABI's PF_LAYER_* values")
    func abiValues() {
        #expect(LayerKind.allCases.map(\.abiValue) == [1, 2, 3, 4, 5])
        #expect(LayerKind(abiValue: 3) == .world)
        #expect(LayerKind(abiValue: 0) == nil)
        #expect(LayerKind(abiValue: 6) == nil)
    }

    @Test("creation time honours SOURCE_DATE_EPOCH")
    func sourceDateEpoch() throws {
        #expect(try Timestamp.forNewSnapshot(environment: ["SOURCE_DATE_EPOCH": "1700000000"]) == "2023-11-14T22:13:20Z")
        #expect(throws: TimestampError.self) { try Timestamp.forNewSnapshot(environment: ["SOURCE_DATE_EPOCH": "soon"]) }
        let now = try Timestamp.forNewSnapshot(environment: [:])
        #expect(now.count == 20 && now.hasSuffix("Z"))
    }
}
