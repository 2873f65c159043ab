import Foundation
import Synchronization
import Testing
import PFModel
import PFSystem
@testable import PFStore

@Suite("Stat cache")
struct StatCacheTests {
    /// Counts reads of files under `directory`.
    final class ReadCounter: Sendable {
        let reads = Mutex(0)
        let directory: String
        init(_ directory: String) { self.directory = directory }
        var hook: SystemCalls.FaultHook {
            { [self] operation, path in
                if operation == .read, path.hasPrefix(directory) { reads.withLock { $0 += 1 } }
                return nil
            }
        }
        var count: Int { reads.withLock { $0 } }
    }

    private func store(_ dir: TemporaryDirectory, _ counter: ReadCounter, racyWindow: Int64 = 0) throws -> SnapshotStore {
        try SnapshotStore.openOrCreate(at: dir.file("store"), durability: .batch, system: SystemCalls(faultHook: counter.hook), racyWindow: racyWindow)
    }

    private func write(_ path: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    @Test("an unchanged file is not read again, in this process or the next")
    func unchanged() throws {
        let dir = TemporaryDirectory()
        let input = dir.directory("in") + "/weights.bin"
        try write(input, String(repeating: "w", count: 100_000))
        let counter = ReadCounter(dir.file("in"))
        let first = try store(dir, counter)
        let blob = try first.putFile(at: input)
        try first.flush()
        let reads = counter.count
        #expect(reads > 0)
        #expect(try first.putFile(at: input) == blob)
        #expect(counter.count == reads)
        // A new store object (a new process) loads the saved cache.
        #expect(try store(dir, counter).putFile(at: input) == blob)
        #expect(counter.count == reads)
    }

    @Test("a changed file is read again, even with the same size")
    func changed() throws {
        let dir = TemporaryDirectory()
        let input = dir.directory("in") + "/f"
        try write(input, "version one")
        let counter = ReadCounter(dir.file("in"))
        let store = try store(dir, counter)
        _ = try store.putFile(at: input)
        try write(input, "version two")
        #expect(try store.putFile(at: input).digest == Digest.of(Array("version two".utf8)))
    }

    @Test("a file changed within the racy window is not remembered")
    func racy() throws {
        let dir = TemporaryDirectory()
        let input = dir.directory("in") + "/f"
        try write(input, "fresh")
        let counter = ReadCounter(dir.file("in"))
        let store = try store(dir, counter, racyWindow: 3_600_000_000_000)
        _ = try store.putFile(at: input)
        let reads = counter.count
        _ = try store.putFile(at: input)
        #expect(counter.count > reads)
    }

    @Test("a damaged cache file or a missing blob never yields a wrong digest")
    func damage() throws {
        let dir = TemporaryDirectory()
        let input = dir.directory("in") + "/f"
        try write(input, "content")
        let counter = ReadCounter(dir.file("in"))
        let first = try store(dir, counter)
        let blob = try first.putFile(at: input)
        try first.flush()
        let cacheFile = dir.file("store") + "/ingest/stat-cache.v1"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: cacheFile))
        bytes[bytes.startIndex + 5] ^= 0x20
        try bytes.write(to: URL(fileURLWithPath: cacheFile))
        #expect(try store(dir, counter).putFile(at: input) == blob)
        // Remove the blob: the cache entry must not be trusted.
        let third = try store(dir, counter)
        _ = try third.putFile(at: input)
        try third.flush()
        try FileManager.default.removeItem(atPath: third.blobPath(blob.digest))
        let reads = counter.count
        let fourth = try store(dir, counter)
        #expect(try fourth.putFile(at: input) == blob)
        #expect(counter.count > reads)
        try fourth.flush()
        #expect(FileManager.default.fileExists(atPath: fourth.blobPath(blob.digest)))
    }
}
