import Foundation
import Testing
import PFModel
@testable import PFStore

@Suite("Verifying a store")
struct VerifierTests {
    /// A store with two snapshots, the second a child of the first.
    private func store() throws -> (TemporaryDirectory, SnapshotStore, Digest, Digest) {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.path)
        let first = try store.commitSnapshot(SnapshotFactory.manifest(in: store, seed: "1"), tag: "one")
        let second = try store.commitSnapshot(SnapshotFactory.manifest(in: store, seed: "2", parents: [first]), tag: "two")
        return (dir, store, first, second)
    }

    private func problems(_ store: SnapshotStore, _ ids: [Digest]? = nil, everyBlob: Bool = true) -> [String] {
        var verifier = StoreVerifier(store: store)
        return verifier.verify(snapshots: ids, everyBlob: everyBlob).map(\.description)
    }

    /// Replaces a read-only blob's bytes.
    private func overwrite(_ path: String, with bytes: [UInt8]) throws {
        try? FileManager.default.removeItem(atPath: path)
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
    }

    @Test("a clean store has no problems")
    func clean() throws {
        let (dir, store, first, _) = try store()
        _ = dir
        #expect(problems(store) == [])
        #expect(problems(store, [first], everyBlob: false) == [])
    }

    @Test("a flipped byte in a layer blob is reported with the blob and the snapshot")
    func flippedByte() throws {
        let (dir, store, _, second) = try store()
        _ = dir
        let blob = try store.snapshot(second).manifest.world.blobs[0].digest
        var bytes = FileManager.default.bytes(store.blobPath(blob))
        bytes[0] ^= 1
        try overwrite(store.blobPath(blob), with: bytes)
        let found = problems(store)
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("snapshot \(second.hex.prefix(16)): \(store.blobPath(blob)): layer blob (application/octet-stream) is damaged") == true)
    }

    @Test("a missing blob and a truncated manifest are each reported")
    func missingAndTruncated() throws {
        let (dir, store, first, second) = try store()
        _ = dir
        let trace = try store.snapshot(first).manifest.trace.blobs[0].digest
        try FileManager.default.removeItem(atPath: store.blobPath(trace))
        let bytes = FileManager.default.bytes(store.blobPath(second))
        try overwrite(store.blobPath(second), with: Array(bytes.prefix(bytes.count / 2)))
        let found = problems(store)
        #expect(found.contains("snapshot \(first.hex.prefix(16)): \(store.blobPath(trace)): layer blob (application/octet-stream) is missing"))
        #expect(found.contains { $0.hasPrefix("snapshot \(second.hex.prefix(16)): \(store.blobPath(second)): the OCI manifest is damaged") })
    }

    @Test("an unreferenced damaged blob is found by a full check only")
    func unreferenced() throws {
        let (dir, store, _, _) = try store()
        _ = dir
        let stray = try store.putBlob(Array("stray".utf8))
        try store.flushPendingBlobs()
        try overwrite(store.blobPath(stray.digest), with: Array("STRAY".utf8))
        #expect(problems(store, everyBlob: false) == [])
        #expect(problems(store).count == 1)
        try overwrite(store.path + "/blobs/sha256/not-a-digest", with: [])
        #expect(problems(store).contains("\(store.path)/blobs/sha256/not-a-digest: is not named by a sha256 digest"))
    }

    @Test("an index.json that is not JSON is one problem naming it")
    func badIndex() throws {
        let (dir, store, _, _) = try store()
        _ = dir
        _ = FileManager.default.createFile(atPath: dir.file("index.json"), contents: Data("garbage".utf8))
        let found = problems(store)
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("\(dir.path)/index.json: \(dir.path)/index.json is corrupt") == true)
    }

    @Test("a config that is not a pfhost manifest is reported")
    func badConfig() throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.path, durability: .none)
        let config = try store.putBlob(Array(#"{"schema_version":1}"#.utf8))
        let oci = OCIManifest(artifactType: MediaType.snapshotArtifact,
                              config: OCIDescriptor(mediaType: MediaType.snapshotConfig, digest: config.digest, size: config.size),
                              layers: [], annotations: nil)
        let manifest = try store.putBlob(CanonicalJSON.encode(oci))
        try store.updateIndex { IndexEdit.add(OCIDescriptor(mediaType: MediaType.ociManifest, digest: manifest.digest, size: manifest.size), tag: nil, to: &$0) }
        let found = problems(store)
        #expect(found.count == 1)
        #expect(found.first?.contains("not a pfhost manifest: missing key 'media_type'") == true)
    }
}
