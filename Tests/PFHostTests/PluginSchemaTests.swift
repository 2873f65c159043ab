import Foundation
import Testing
import PFModel
@testable import PFHost

/// The schemas are the law: the host validates every layer against the JSON Schemas it publishes in
/// `plugin-sdk/schema/`, embedded from those very files, and agrees with python3's `jsonschema` on them.
@Suite("Published schemas")
struct PluginSchemaTests {
    static let schemaDirectory = repositoryRoot + "/plugin-sdk/schema"

    @Test("the embedded schemas are the files of plugin-sdk/schema, byte for byte (run scripts/generate-schemas after editing one)")
    func embeddedMatchFiles() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.schemaDirectory).filter { $0.hasSuffix(".schema.json") }
        #expect(Set(files) == Set(PublishedSchemas.documents.keys))
        for name in files {
            let text = try String(contentsOfFile: Self.schemaDirectory + "/" + name, encoding: .utf8)
            #expect(PublishedSchemas.documents[name].map { $0 + "\n" } == text, "\(name) differs from its embedded copy")
        }
    }

    @Test("every schema uses only keywords the validator evaluates; an unknown keyword is refused")
    func keywords() throws {
        _ = try JSONSchemaValidator(documents: PublishedSchemas.documents)
        #expect(throws: SchemaViolation.unsupportedKeyword("propertyNames", document: "x.json")) {
            try JSONSchemaValidator(documents: ["x.json": #"{"properties": {"a": {"propertyNames": {}}}}"#])
        }
    }

    /// Layers of a real snapshot of the example agents (reference plugins), each with damaged copies.
    static func corpus() throws -> [(schema: String, name: String, document: JSONValue)] {
        let dir = TemporaryDirectory()
        _ = Unmanaged.passRetained(dir)
        let plugins = dir.directory("plugins")
        for kind in LayerKind.allCases {
            try FileManager.default.createSymbolicLink(atPath: plugins + "/libpf-\(kind).so", withDestinationPath: productsDirectory + "/libpf-\(kind).so")
        }
        var layers: [(String, JSONValue)] = []
        for (agent, tag) in [("agent", "a"), ("hosted-agent", "h")] {
            let output = try pfhost("snapshot", "--plugins", plugins, "--store", dir.file("store"), "--config",
                                    repositoryRoot + "/Examples/\(agent)/pfhost.json", "--tag", tag)
            #expect(output.status == 0, "\(output)")
            let shown = try pfhost("show", "--store", dir.file("store"), tag, "--json")
            let manifest = try JSONParser.parse(Array(shown.stdout.utf8))
            for kind in LayerKind.allCases { layers.append(("\(tag)-\(kind)", manifest[kind.rawValue]!)) }
        }
        func changed(_ value: JSONValue, _ body: (inout [String: JSONValue]) -> Void) -> JSONValue {
            var members = value.objectValue!
            body(&members)
            return .object(members)
        }
        var corpus: [(String, String, JSONValue)] = []
        for (name, layer) in layers {
            let kind = layer["kind"]!.stringValue!
            let schema = "layer-\(kind).schema.json"
            corpus.append((schema, name, layer))
            corpus.append((schema, name + "-extra-field", changed(layer) { $0["extra"] = .int(1) }))
            corpus.append((schema, name + "-no-blobs", changed(layer) { $0["blobs"] = nil }))
            corpus.append((schema, name + "-other-kind", changed(layer) { $0["kind"] = .string(kind == "trace" ? "model" : "trace") }))
            corpus.append((schema, name + "-bad-kind", changed(layer) { $0["kind"] = .string("nope") }))
            corpus.append((schema, name + "-blob-extra", changed(layer) {
                $0["blobs"] = .array([.object(["media_type": .string("x"), "digest": .string("sha256:" + String(repeating: "a", count: 64)),
                                               "size": .int(1), "colour": .string("red")])])
            }))
            corpus.append((schema, name + "-negative-size", changed(layer) {
                $0["blobs"] = .array([.object(["media_type": .string("x"), "digest": .string("sha256:" + String(repeating: "a", count: 64)), "size": .int(-1)])])
            }))
            corpus.append((schema, name + "-bad-digest", changed(layer) {
                $0["blobs"] = .array([.object(["media_type": .string("x"), "digest": .string("sha256:XYZ"), "size": .int(1)])])
            }))
            corpus.append((schema, name + "-annotation-number", changed(layer) { $0["annotations"] = .object(["a": .int(1)]) }))
            corpus.append((schema, name + "-plugin-extra", changed(layer) {
                $0["plugin"] = .object(["id": .string("a.b"), "version": .string("1.0.0"), "x": .null])
            }))
            for key in layer.objectValue!.keys.sorted() where !["kind", "blobs"].contains(key) {
                corpus.append((schema, name + "-without-\(key)", changed(layer) { $0[key] = nil }))
                corpus.append((schema, name + "-\(key)-null", changed(layer) { $0[key] = .null }))
                corpus.append((schema, name + "-\(key)-string", changed(layer) { $0[key] = .string("x") }))
            }
            switch kind {
            case "effects":
                corpus.append((schema, name + "-head-XYZ", changed(layer) { $0["head"] = .string("XYZ") }))
                corpus.append((schema, name + "-head-hex", changed(layer) { $0["head"] = .string(String(repeating: "0", count: 64)) }))
            case "model":
                corpus.append((schema, name + "-hosted-no-provider", changed(layer) { $0["format"] = .string("hosted"); $0["provider"] = nil }))
                corpus.append((schema, name + "-file-provider", changed(layer) { $0["format"] = .string("safetensors"); $0["provider"] = .string("p") }))
            case "world":
                corpus.append((schema, name + "-tree-extra", changed(layer) {
                    var tree = $0["tree"]!.objectValue!
                    tree["x"] = .int(1)
                    $0["tree"] = .object(tree)
                }))
            default: break
            }
        }
        return corpus
    }

    @Test("the host's validator and python3's jsonschema give the same verdict on every document")
    func agreesWithJSONSchema() throws {
        let corpus = try Self.corpus()
        let validator = try JSONSchemaValidator(documents: PublishedSchemas.documents)
        let dir = TemporaryDirectory()
        var python: [String: Bool] = [:]
        for schema in Set(corpus.map(\.schema)) {
            let documents = corpus.filter { $0.schema == schema }
            var files: [String] = []
            for document in documents {
                let file = dir.file(document.name + ".json")
                try Data(CanonicalJSON.encode(document.document)).write(to: URL(fileURLWithPath: file))
                files.append(file)
                python[file] = true
            }
            let output = try run("/usr/bin/env", ["python3", Self.schemaDirectory + "/validate.py", schema] + files)
            try #require((output.status == 0 || output.status == 1) && output.stderr.isEmpty, "validate.py could not run: \(output)")
            for line in output.stdout.split(separator: "\n") {
                if let file = files.first(where: { line.hasPrefix($0 + ": ") }) { python[file] = false }
            }
        }
        var invalid = 0
        for document in corpus {
            let mine: Bool
            do { try validator.validate(document.document, against: document.schema); mine = true } catch { mine = false }
            let theirs = try #require(python[dir.file(document.name + ".json")] as Bool?)
            #expect(mine == theirs, "\(document.name): pfhost says \(mine ? "valid" : "invalid"), jsonschema \(theirs ? "valid" : "invalid")")
            if !mine { invalid += 1 }
        }
        // Both verdicts occur: the corpus can tell a validator that accepts or refuses everything.
        #expect(invalid > 0 && invalid < corpus.count)
        #expect(corpus.count - invalid >= 10, "the ten real layers at least are valid")
    }

    @Test("set_layer refuses what the schema refuses, naming the schema and the place", arguments: [
        (LayerKind.effects, "bad-head", "the layer does not match plugin-sdk/schema/layer-effects.schema.json: /head \"XYZ\" does not match ^[0-9a-f]{64}$"),
        (LayerKind.trace, "unknown-field", "the layer does not match plugin-sdk/schema/layer-trace.schema.json: /extra is not a field of this object (unknown fields are refused)"),
        (LayerKind.world, "unknown-field", "the layer does not match plugin-sdk/schema/layer-world.schema.json: /extra is not a field of this object (unknown fields are refused)"),
    ])
    func setLayerRefuses(kind: LayerKind, mode: String, message: String) throws {
        let dir = TemporaryDirectory()
        let plugins = PluginBuilder.directory(in: dir)
        let output = try pfhost("snapshot", "--plugins", plugins, "--store", dir.file("store"), "--set", "\(kind).mode=\(mode)")
        #expect(output.status == 2, "\(output)")
        #expect(output.stderr.contains("(org.pfhost.test.plugin, \(kind) layer) failed: capture returned PF_ERR_INVALID: \(message)"), "\(output)")
    }

    @Test("set_error followed by PF_OK is refused, in process and isolated", arguments: [[], ["--isolate"]])
    func errorThenOK(extra: [String]) throws {
        let dir = TemporaryDirectory()
        let plugins = PluginBuilder.directory(in: dir)
        let output = try pfhost(["snapshot", "--plugins", plugins, "--store", dir.file("store"), "--set", "trace.mode=error-ok"] + extra)
        #expect(output.status == 2, "\(output)")
        #expect(output.stderr.contains("(org.pfhost.test.plugin, trace layer) failed: capture returned PF_OK after set_error(\"something went wrong\")"), "\(output)")
    }

    @Test("an id that is not reverse-DNS and a version that is not semver are refused at load", arguments: [
        ("TEST_ID=\"my plugin!\"", "pf_plugin.id \"my plugin!\" is not a reverse-DNS name (dot-separated labels of letters, digits, - and _, e.g. org.example.world.fs)"),
        ("TEST_ID=\"example\"", "pf_plugin.id \"example\" is not a reverse-DNS name (dot-separated labels of letters, digits, - and _, e.g. org.example.world.fs)"),
        ("TEST_VERSION=\"latest\"", "pf_plugin.version \"latest\" is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.2.0 or 1.2.0-rc.1)"),
        ("TEST_VERSION=\"1.02.0\"", "pf_plugin.version \"1.02.0\" is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.2.0 or 1.2.0-rc.1)"),
    ])
    func namingRefused(define: String, reason: String) throws {
        let dir = TemporaryDirectory()
        let file = try PluginBuilder.build(kind: .trace, defines: [define], into: dir.path, name: "bad.so")
        #expect { try PluginLoader.load(file) } throws: { error in (error as? PluginRefusal)?.description == "\(file): \(reason)" }
    }

    @Test("reverse-DNS ids and semantic versions", arguments: [
        ("org.example.world.fs", true), ("dev.pfhost.model.safetensors", true), ("com.Example-1.x_y", true), ("a.b", true),
        ("my plugin!", false), ("example", false), (".org.x", false), ("org..x", false), ("org.-x", false), ("org.x-", false), ("org.é", false),
    ])
    func ids(id: String, valid: Bool) {
        #expect((PluginNaming.idProblem(id) == nil) == valid)
    }

    @Test("semantic versions", arguments: [
        ("1.2.0", true), ("0.0.0", true), ("1.2.0-rc.1", true), ("1.2.0-alpha+build.5", true), ("10.20.30+meta-data", true),
        ("latest", false), ("1.2", false), ("1.02.0", false), ("1.2.0-", false), ("1.2.0-01", false), ("1.2.0+", false), ("v1.2.0", false), ("1.2.3.4", false),
    ])
    func versions(version: String, valid: Bool) {
        #expect((PluginNaming.versionProblem(version) == nil) == valid)
    }
}
