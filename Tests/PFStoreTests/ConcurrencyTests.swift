import Foundation
import Synchronization
import Testing
import PFModel
@testable import PFStore

@Suite("Concurrent writers")
struct ConcurrencyTests {
    /// Runs `body(i)` for i in 0..<count on `count` threads started together.
    private func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for i in 0..<count {
            group.enter()
            Thread {
                body(i)
                group.leave()
            }.start()
        }
        group.wait()
    }

    @Test("threads committing into one store all land", arguments: [(Durability.batch, true), (.batch, false), (.none, false), (.strict, true)])
    func threads(durability: Durability, sharedObject: Bool) throws {
        let dir = TemporaryDirectory()
        let shared = try SnapshotStore.openOrCreate(at: dir.path, durability: durability)
        let path = dir.path
        let threads = 6, perThread = 4
        let errors = Mutex<[String]>([])
        onThreads(threads) { thread in
            do {
                let store = sharedObject ? shared : try SnapshotStore(opening: path, durability: durability)
                for n in 0..<perThread {
                    // Every thread also writes one blob all the others write too.
                    _ = try store.putBlob(Array("common".utf8))
                    let manifest = try SnapshotFactory.manifest(in: store, seed: "\(thread)-\(n)")
                    try store.commitSnapshot(manifest, tag: n == perThread - 1 ? "last" : "t\(thread)")
                }
            } catch {
                errors.withLock { $0.append("\(error)") }
            }
        }
        #expect(errors.withLock { $0 } == [])
        let index = try shared.readIndex()
        #expect(Set(try shared.history().map(\.id)).count == threads * perThread)
        #expect(index.manifests.filter { $0.refName == "last" }.count == 1)
        var verifier = StoreVerifier(store: shared)
        #expect(verifier.verify(snapshots: nil, everyBlob: true) == [])
    }
}


@Suite("Reclaiming abandoned temporary files")
struct ReclaimTests {
    @Test("a live writer's temporary files are never reclaimed; a file with no owner is")
    func liveWriter() throws {
        let dir = TemporaryDirectory()
        let writerStore = try SnapshotStore.openOrCreate(at: dir.path)
        let other = try SnapshotStore(opening: dir.path)
        let writer = try writerStore.makeWriter()
        try writer.write(Array("still being written".utf8))
        // An old-style file whose writer left no claim.
        try Data("left over".utf8).write(to: URL(fileURLWithPath: dir.path + "/ingest/blob-12345-abcdef.tmp"))
        let reclaimed = try other.reclaimAbandonedFiles()
        #expect(reclaimed == SnapshotStore.Reclaimed(files: 1, bytes: 9))
        let blob = try writer.commit()
        try writerStore.flush()
        #expect(try writerStore.readBlob(blob.digest) == Array("still being written".utf8))
        #expect(try other.reclaimAbandonedFiles(dryRun: true) == SnapshotStore.Reclaimed())
    }
}
