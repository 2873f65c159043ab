import Foundation
import Testing
import PFModel
import PFStore
@testable import PFHost

/// A model file larger than 4 MiB is kept as 4 MiB chunks, so restore and `verify --all` hash it
/// many lanes at a time: what the layer records, how it restores, and what a hostile record does.
@Suite("Model chunks")
struct ModelChunkTests {
    typealias Agent = ReferencePluginTests.Agent

    /// 9 MiB and one byte whose first two 4 MiB chunks are the same bytes.
    static let weights: [UInt8] = {
        let chunk = (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 11) }
        return chunk + chunk + (0..<((1 << 20) + 1)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    }()

    /// An agent whose model directory holds ``weights`` as `extra.bin`, snapshotted as `main`.
    static func agent() throws -> (Agent, Manifest) {
        let agent = try Agent()
        try Data(weights).write(to: URL(fileURLWithPath: agent.root + "/model/extra.bin"))
        let (_, manifest) = try agent.manifest(["--tag", "main"])
        return (agent, manifest)
    }

    @Test("a file over 4 MiB is recorded as its chunks (no digest), each blob listed once; small files keep one digest")
    func recorded() throws {
        let (_, manifest) = try Self.agent()
        let file = try #require(manifest.model.content.files.first { $0.path == "extra.bin" })
        let chunks = try #require(file.chunks)
        #expect(file.digest == nil && file.size == Int64(Self.weights.count))
        #expect(chunks == [Digest.of(Array(Self.weights[0..<(4 << 20)])), Digest.of(Array(Self.weights[0..<(4 << 20)])),
                           Digest.of(Array(Self.weights[(8 << 20)...]))])
        #expect(manifest.model.blobs.filter { $0.digest == chunks[0] }.count == 1)
        let last = try #require(manifest.model.blobs.first { $0.digest == chunks[2] })
        #expect(last.size == Int64((1 << 20) + 1))
        let small = try #require(manifest.model.content.files.first { $0.path == "config.json" })
        #expect(small.digest != nil && small.chunks == nil)
        // The published schema (which the capture passed) wants one of digest and chunks per file.
        let schema = try JSONSchemaValidator(documents: PublishedSchemas.documents)
        var layer = manifest.model
        try schema.validate(CanonicalJSON.jsonValue(of: layer), against: "layer-model.schema.json")
        let index = try #require(layer.content.files.firstIndex { $0.path == "extra.bin" })
        layer.content.files[index].digest = chunks[0]
        #expect(throws: SchemaViolation.self) { try schema.validate(CanonicalJSON.jsonValue(of: layer), against: "layer-model.schema.json") }
        layer.content.files[index].digest = nil
        layer.content.files[index].chunks = nil
        #expect(throws: SchemaViolation.self) { try schema.validate(CanonicalJSON.jsonValue(of: layer), against: "layer-model.schema.json") }
    }

    @Test("chunks restore byte for byte, verify --all passes, and a snapshot of the restore records the same chunks")
    func roundTrip() throws {
        let (agent, manifest) = try Self.agent()
        let target = agent.dir.file("b")
        let output = try RestoreTests.restore(agent, "main", to: target)
        #expect(output.status == 0, "\(output)")
        #expect(FileManager.default.contents(atPath: target + "/model/extra.bin") == Data(Self.weights))
        let verify = try run(productsDirectory + "/pfhost", ["verify", "--all", "--store", agent.store])
        #expect(verify.status == 0, "\(verify)")
        let fork = try run(productsDirectory + "/pfhost", ["snapshot", "--plugins", agent.plugins, "--store", agent.store,
                                                           "--config", target + "/pfhost.json", "--parent", "main"])
        #expect(fork.status == 0, "\(fork)")
        let id = try Digest(parsing: fork.stdout.trimmingCharacters(in: .newlines))
        let again = try SnapshotStore(opening: agent.store).snapshot(id).manifest
        #expect(again.model.content.files == manifest.model.content.files)
        #expect(Set(again.model.blobs.map(\.digest)) == Set(manifest.model.blobs.map(\.digest)))
    }

    @Test("a damaged chunk fails the restore naming it (exit 3) before TARGET exists")
    func damagedChunk() throws {
        let (agent, manifest) = try Self.agent()
        let chunk = try #require(manifest.model.content.files.first { $0.path == "extra.bin" }?.chunks?.last)
        let path = try SnapshotStore(opening: agent.store).blobPath(chunk)
        try RestoreTests.flipByte(of: path, at: 1 << 19)
        try RestoreTests.expectDamagedRestore(agent, blob: chunk, path: path)
    }

    @Test("diff names a file whose chunk changed, with its chunks in --json")
    func diff() throws {
        let (agent, _) = try Self.agent()
        var changed = Self.weights
        changed[5 << 20] ^= 0xff
        try Data(changed).write(to: URL(fileURLWithPath: agent.root + "/model/extra.bin"))
        let (_, second) = try agent.manifest(["--tag", "next"])
        let chunks = try #require(second.model.content.files.first { $0.path == "extra.bin" }?.chunks)
        #expect(chunks[1] == Digest.of(Array(changed[(4 << 20)..<(8 << 20)])) && chunks[0] != chunks[1])
        let output = try run(productsDirectory + "/pfhost", ["diff", "main", "next", "--json", "--store", agent.store])
        #expect(output.status == 0, "\(output)")
        let json = try JSONParser.parse(Array(output.stdout.utf8.dropLast()))
        guard case .array(let changes)? = json["layers"]?["model"]?["files"]?["changed"], let change = changes.first else {
            Issue.record("no changed model file: \(output.stdout)")
            return
        }
        #expect(change["to"]?["path"] == .string("extra.bin"), "\(output.stdout)")
        #expect(change["to"]?["chunks"] == .array(chunks.map { .string($0.description) }), "\(output.stdout)")
        #expect(change["to"]?["digest"] == nil)
    }

    @Test("hostile records fail the restore naming the file before anything is written, and verify reports them", arguments: [
        "more", "fewer", "both", "neither", "empty", "negative", "unlisted", "escape", "twice", "clash",
    ])
    func hostile(_ form: String) throws {
        let (agent, base) = try Self.agent()
        var manifest = base
        let index = try #require(manifest.model.content.files.firstIndex { $0.path == "extra.bin" })
        let total = Int64(Self.weights.count)
        var name = "extra.bin"
        let expected: String
        switch form {
        case "more":
            manifest.model.content.files[index].size = 10
            expected = "its chunks hold \(total) bytes, not the 10 it records"
        case "fewer":
            manifest.model.content.files[index].size += 1
            expected = "its chunks hold \(total) bytes, not the \(total + 1) it records"
        case "both":
            manifest.model.content.files[index].digest = manifest.model.content.files[index].chunks?.first
            expected = "it names both a digest and chunks: a file records one or the other"
        case "neither":
            manifest.model.content.files[index].chunks = nil
            expected = "it names no blob: a file records its digest or its chunks"
        case "empty":
            manifest.model.content.files[index].chunks = []
            manifest.model.content.files[index].size = 0
            expected = "an empty list of chunks"
        case "negative":
            manifest.model.content.files[index].size = -1
            expected = "a negative size (-1)"
        case "unlisted":
            manifest.model.content.files[index].chunks?[1] = Digest.of(Array("not in this layer".utf8))
            expected = "its chunk \(Digest.of(Array("not in this layer".utf8))) is not one of the layer's blobs"
        case "twice":
            manifest.model.content.files.append(manifest.model.content.files[index])
            expected = "recorded twice"
        case "clash":
            name = "config.json/extra.bin"
            manifest.model.content.files[index].path = name
            expected = "'config.json', a directory on its way, is also recorded as a file"
        default:
            name = "../../x"
            manifest.model.content.files[index].path = name
            expected = "not a path inside the model directory"
        }
        _ = try SnapshotStore(opening: agent.store).commitSnapshot(manifest, tag: "hostile")
        let before = RestoreSecurityTests.listing(agent.dir.path)
        let target = agent.dir.file("target")
        let output = try RestoreTests.restore(agent, "hostile", to: target, ["--only", "model"])
        #expect(output.status == 2, "\(output)")
        #expect(output.stderr.contains("model file '\(name)': \(expected)"), "\(output)")
        #expect(RestoreSecurityTests.listing(agent.dir.path) == before)
        let verify = try run(productsDirectory + "/pfhost", ["verify", "hostile", "--store", agent.store])
        #expect(verify.status == 1, "\(verify)")
        #expect(verify.stdout.contains("the model layer: model file '\(name)': \(expected)"), "\(verify)")
    }

    @Test("the host refuses at capture a model layer restore would refuse: chunks short of the file, a path leading out", arguments: [
        ("model-chunks-short", "model file 'weights.bin': its chunks hold 31 bytes, not the 32 it records"),
        ("model-escape", "model file '../../x': not a path inside the model directory"),
    ])
    func refusedAtCapture(mode: String, message: String) throws {
        let setup = SnapshotCommandTests.Setup()
        let output = try setup.snapshot(["--set", "model.mode=\(mode)"])
        #expect(output.status == 2, "\(output)")
        #expect(output.stderr.contains("plugin \(setup.plugins)/model.so (org.pfhost.test.plugin, model layer) failed: "), "\(output)")
        #expect(output.stderr.contains(message), "\(output)")
    }

    @Test("a snapshot whose one stored chunk is repeated to claim 4 GB is refused for want of space, not written until the disk is full")
    func chunkBomb() throws {
        let (agent, base) = try Self.agent()
        var manifest = base
        let index = try #require(manifest.model.content.files.firstIndex { $0.path == "extra.bin" })
        let chunk = try #require(manifest.model.content.files[index].chunks?.first)
        manifest.model.content.files[index].chunks = Array(repeating: chunk, count: 1000)
        manifest.model.content.files[index].size = 1000 * (4 << 20)
        _ = try SnapshotStore(opening: agent.store).commitSnapshot(manifest, tag: "bomb")
        // A small file system to restore into.
        let small = agent.dir.directory("small")
        let mount = try run("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=64m", "tmpfs", small])
        guard mount.status == 0 else {
            print("skipped: this test needs to mount a tmpfs (root with CAP_SYS_ADMIN): \(mount.stderr)")
            return
        }
        defer { _ = try? run("/usr/bin/umount", [small]) }
        let output = try RestoreTests.restore(agent, "bomb", to: small + "/target", ["--only", "model"])
        #expect(output.status == 2, "\(output)")
        #expect(output.stderr.contains("model/extra.bin: 4194304000 bytes to write, more than the"), "\(output)")
        #expect(output.stderr.contains("bytes free on its file system; free some space or restore elsewhere"), "\(output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: small).isEmpty)
    }
}
