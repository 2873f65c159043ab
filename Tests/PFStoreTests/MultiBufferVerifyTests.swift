import Foundation
import Synchronization
import Testing
import PFModel
import PFSystem
@testable import PFStore

@Suite("Verifying blobs side by side")
struct MultiBufferVerifyTests {
    @Test("each blob's outcome is its own: a file that shrinks while it is read and a damaged one fail, the others pass",
          arguments: MultiBufferSHA256.Kernel.supported)
    func outcomesPerBlob(kernel: MultiBufferSHA256.Kernel) throws {
        let dir = TemporaryDirectory()
        let plain = try SnapshotStore.openOrCreate(at: dir.path, durability: .none, system: SystemCalls())
        // 40 blobs of 1 byte to 1.4 MB: more than the lanes, several chunks long.
        let bytes = (0..<1_400_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        let blobs = try (0..<40).map { index in
            try plain.putBlob([UInt8(index)] + bytes[0 ..< index * 37_003 % 1_400_000])
        }
        let shrinking = blobs[20], damaged = blobs[9]
        let shrinkingPath = plain.blobPath(shrinking.digest)
        #expect(chmod(shrinkingPath, 0o644) == 0)
        #expect(chmod(plain.blobPath(damaged.digest), 0o644) == 0)
        let handle = try #require(FileHandle(forUpdatingAtPath: plain.blobPath(damaged.digest)))
        try handle.seek(toOffset: UInt64(damaged.size / 2))
        try handle.write(contentsOf: [0xFF])
        try handle.close()

        // The shrinking blob's second read finds it cut to half.
        let reads = Mutex(0)
        let hook: SystemCalls.FaultHook = { operation, path in
            guard operation == .read, path == shrinkingPath else { return nil }
            if reads.withLock({ count in count += 1; return count }) == 2 { _ = truncate(path, off_t(shrinking.size / 2)) }
            return nil
        }
        let store = try SnapshotStore.openOrCreate(at: dir.path, durability: .none, system: SystemCalls(faultHook: hook))
        var files = try blobs.reversed().map { try store.openBlobFile($0) }
        var outcomes: [Digest: Result<Void, StoreError>] = [:]
        store.verify(kernel: kernel, next: { files.popLast() }) { file, outcome in
            close(file.fd)
            outcomes[file.blob.digest] = outcome
        }

        #expect(outcomes.count == blobs.count)
        for blob in blobs {
            let outcome = try #require(outcomes[blob.digest])
            switch blob.digest {
            case shrinking.digest:
                #expect(throws: StoreError.self) { try outcome.get() }
                #expect("\(outcome)".contains("changed size while it was being hashed"))
                #expect("\(outcome)".contains(shrinkingPath))
            case damaged.digest:
                #expect("\(outcome)".contains("does not match its digest"))
            default:
                #expect(throws: Never.self) { try outcome.get() }
            }
        }
    }
}
