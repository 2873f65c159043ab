import Foundation
import Testing
import PFModel
import PFSystem
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

    @Test("every blob is re-hashed, the large ones on their own thread beside the lanes: a damaged one of each size is reported")
    func largeAndSmallBlobsDamaged() throws {
        let (dir, _, _, _) = try store()
        let store = try SnapshotStore.openOrCreate(at: dir.path, durability: .none, system: SystemCalls())
        let large = try store.putBlob((0..<(17 << 20)).map { UInt8(truncatingIfNeeded: $0 >> 7) })
        let others = try (0..<20).map { try store.putBlob(Array("small blob \($0)".utf8)) }
        #expect(problems(store) == [])
        for blob in [large, others[7]] {
            var bytes = FileManager.default.bytes(store.blobPath(blob.digest))
            bytes[bytes.count / 2] ^= 1
            try overwrite(store.blobPath(blob.digest), with: bytes)
        }
        let found = problems(store)
        #expect(found.count == 2, "\(found)")
        for blob in [large, others[7]] {
            #expect(found.contains { $0.contains(store.blobPath(blob.digest)) && $0.contains("is damaged") }, "\(found)")
        }
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
        #expect(found.contains { $0.hasPrefix("snapshot \(second.hex.prefix(16)): \(store.blobPath(second)): the snapshot's root is damaged") })
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

    @Test("a blob replaced by a symlink (to a good copy or to /etc/passwd) is reported, and never reused or followed")
    func symlinkedBlob() throws {
        let (dir, store, _, second) = try store()
        let blob = try store.snapshot(second).manifest.world.blobs[0]
        let path = store.blobPath(blob.digest)
        // A good copy elsewhere: the content would verify if the link were followed.
        let copy = dir.file("copy")
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: copy)
        let found = problems(store)
        #expect(found.contains { $0.contains("\(path): layer blob (application/octet-stream) is damaged: it is not a regular file") }, "\(found)")
        // An unreferenced blob that is a symlink to /etc/passwd: reported by the full check.
        let stray = store.blobPath(Digest.of(Array("stray".utf8)))
        try FileManager.default.createSymbolicLink(atPath: stray, withDestinationPath: "/etc/passwd")
        #expect(problems(store).contains("\(stray): is not a regular file (a symlink); a store holds only regular files: remove it"))
        #expect(throws: StoreError.self) { try store.readBlob(Digest.of(Array("stray".utf8))) }
        // A fresh store object (no memory of what it saw) writes the blob again, replacing the link.
        let fresh = try SnapshotStore(opening: store.path, durability: .strict)
        let content = FileManager.default.bytes(copy)
        let written = try fresh.putBlob(content)
        #expect(written.digest == blob.digest)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect(attributes[.type] as? FileAttributeType == .typeRegular)
        #expect(FileManager.default.bytes(copy) == content, "the link's target was not written through")
        #expect(!problems(store).contains { $0.hasPrefix("snapshot") })
    }

    @Test("a store whose blobs directory is a symlink is refused")
    func symlinkedDirectory() throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.file("store"))
        try FileManager.default.moveItem(atPath: store.path + "/blobs/sha256", toPath: dir.file("elsewhere"))
        try FileManager.default.createSymbolicLink(atPath: store.path + "/blobs/sha256", withDestinationPath: dir.file("elsewhere"))
        #expect {
            try SnapshotStore(opening: store.path)
        } throws: { error in
            "\(error)".contains("\(store.path)/blobs/sha256 is corrupt: it is not a directory")
        }
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
        try store.withIndexLock { () throws(StoreError) in
            try store.appendJournal([.add(HistoryEntry(root: OCIDescriptor(mediaType: MediaType.ociManifest, digest: manifest.digest, size: manifest.size), created: ""))])
        }
        let found = problems(store)
        #expect(found.count == 1)
        #expect(found.first?.contains("not a pfhost manifest: missing key 'media_type'") == true)
    }
}
