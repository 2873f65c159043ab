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

    @Test("hits alone do not rewrite the cache: an unchanged snapshot writes nothing to it")
    func hitsDoNotRewrite() throws {
        let dir = TemporaryDirectory()
        let input = dir.directory("in") + "/weights.bin"
        try write(input, String(repeating: "w", count: 10_000))
        let counter = ReadCounter(dir.file("in"))
        let first = try store(dir, counter)
        let blob = try first.putFile(at: input)
        try first.flush()
        let cache = dir.file("store/ingest/stat-cache.v1")
        var before = stat()
        #expect(lstat(cache, &before) == 0)
        let second = try store(dir, counter)
        #expect(try second.putFile(at: input) == blob)
        try second.flush()
        var after = stat()
        #expect(lstat(cache, &after) == 0)
        #expect(after.st_ino == before.st_ino && after.st_mtim.tv_nsec == before.st_mtim.tv_nsec && after.st_mtim.tv_sec == before.st_mtim.tv_sec)
    }

    @Test("ranges of one file are remembered each under its own offset and size, never one for another")
    func ranges() throws {
        let dir = TemporaryDirectory()
        let input = dir.directory("in") + "/weights.bin"
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        try Data(bytes).write(to: URL(fileURLWithPath: input))
        let counter = ReadCounter("descriptor")
        let store = try store(dir, counter)
        let fd = open(input, O_RDONLY | O_CLOEXEC)
        defer { close(fd) }
        func put(_ offset: Int64, _ size: Int64?) throws -> BlobRef {
            let stored = try store.putFile(descriptor: fd, offset: offset, size: size, display: "descriptor \(fd)")
            #expect(!stored.changed)
            return stored.blob
        }
        let first = try put(0, 100_000), second = try put(100_000, 100_000), rest = try put(200_000, nil)
        #expect(first.digest == Digest.of(Array(bytes[0..<100_000])))
        #expect(second.digest == Digest.of(Array(bytes[100_000..<200_000])))
        #expect(rest.digest == Digest.of(Array(bytes[200_000...])) && rest.size == 100_000)
        let reads = counter.count
        #expect(reads > 0)
        #expect(try put(100_000, 100_000) == second && put(0, 100_000) == first && put(200_000, nil) == rest)
        #expect(counter.count == reads)
        // A range not stored before is read, and the whole file is not mistaken for a range.
        #expect(try put(50_000, 100_000).digest == Digest.of(Array(bytes[50_000..<150_000])))
        #expect(try store.putFile(descriptor: fd, size: nil, display: "descriptor").blob.digest == Digest.of(bytes))
        #expect(counter.count > reads)
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

    @Test("a file whose mtime does not fit 64-bit nanoseconds (year 2300) is stored, never cached, never a crash")
    func farFutureTime() throws {
        let dir = TemporaryDirectory()
        let input = dir.directory("in") + "/future"
        try write(input, "from the future")
        // 2300-01-01: 10,413,792,000 s, beyond Int64 nanoseconds (which end in 2262). utimensat
        // sets it on ext4, xfs, btrfs and tmpfs alike.
        var times = [timespec(tv_sec: 10_413_792_000, tv_nsec: 0), timespec(tv_sec: 10_413_792_000, tv_nsec: 0)]
        try #require(utimensat(AT_FDCWD, input, &times, 0) == 0, "cannot set a year-2300 mtime here")
        let counter = ReadCounter(dir.file("in"))
        let store = try store(dir, counter)
        let blob = try store.putFile(at: input)
        #expect(blob.digest == Digest.of(Array("from the future".utf8)))
        let reads = counter.count
        #expect(try store.putFile(at: input) == blob)
        #expect(counter.count > reads, "a key that cannot be represented is not cached")
        try store.flush()
        #expect(try self.store(dir, counter).putFile(at: input) == blob)
        // The conversion is checked at both ends of the 64-bit range, and exact inside it.
        var info = stat()
        info.st_mtim = timespec(tv_sec: Int.max, tv_nsec: 999_999_999)
        #expect(StatCache.Key(info) == nil)
        info.st_mtim = timespec(tv_sec: Int.min, tv_nsec: 0)
        #expect(StatCache.Key(info) == nil)
        info.st_mtim = timespec(tv_sec: 9_223_372_036, tv_nsec: 854_775_807)
        #expect(StatCache.Key(info)?.mtime == Int64.max)
    }
}
