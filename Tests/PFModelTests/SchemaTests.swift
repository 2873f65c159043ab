import Foundation
import Testing
@testable import PFModel

/// What the code writes validates against the JSON Schemas published in `plugin-sdk/schema/`,
/// checked by python3's `jsonschema`, which shares no code with pfhost.
@Suite("Published JSON Schemas")
struct SchemaTests {
    private static let schemaDirectory: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path + "/plugin-sdk/schema"
    }()

    /// Runs the validator on `value` written to a file; returns its exit status and output.
    private func validate(_ value: JSONValue, against schema: String) throws -> (Int32, String) {
        let file = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("pfhost-schema-\(UUID().uuidString).json")
        try Data(CanonicalJSON.encode(value)).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.schemaDirectory + "/validate.py", schema, file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    @Test("the manifest, with every optional field, validates")
    func manifest() throws {
        let (status, output) = try validate(CanonicalJSON.jsonValue(of: Fixtures.manifest), against: "manifest.schema.json")
        #expect(status == 0, "\(output)")
    }

    @Test("each layer validates against its own schema")
    func layers() throws {
        let manifest = try CanonicalJSON.jsonValue(of: Fixtures.manifest)
        for kind in LayerKind.allCases {
            let (status, output) = try validate(try #require(manifest[kind.rawValue]), against: "layer-\(kind).schema.json")
            #expect(status == 0, "\(kind): \(output)")
        }
    }

    @Test("a manifest missing a required field fails, naming where")
    func invalid() throws {
        var manifest = try #require(try CanonicalJSON.jsonValue(of: Fixtures.manifest).objectValue)
        var world = try #require(manifest["world"]?.objectValue)
        world.removeValue(forKey: "root")
        manifest["world"] = .object(world)
        manifest["schema_version"] = .int(2)
        let (status, output) = try validate(.object(manifest), against: "manifest.schema.json")
        #expect(status == 1)
        #expect(output.contains("world: 'root' is a required property"), "\(output)")
        #expect(output.contains("schema_version: 1 was expected"), "\(output)")
    }
}
