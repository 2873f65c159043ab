import Foundation
import Testing
import PFModel
@testable import PFStore

@Suite("Temporary files of a process")
struct TemporaryFilesTests {
    @Test("removeTemporaryFiles(ofProcess:) removes that process's blobs being written and stat cache, nothing else")
    func removesOnlyThatProcess() throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.file("store"))
        let ingest = store.path + "/ingest"
        // This process's own writer stands for another process that was killed mid-write.
        let writer = try store.makeWriter()
        try writer.write(Array("half a blob".utf8))
        let pid = getpid()
        let others = ["blob-1-1f.tmp", "blob-\(pid)1-2e.tmp", "index.lock", "stat-cache.v1", "stat-cache.v1.1.tmp", "blob-\(pid)-x.part"]
        for name in others + ["stat-cache.v1.\(pid).tmp"] { _ = FileManager.default.createFile(atPath: ingest + "/" + name, contents: Data()) }
        let before = try FileManager.default.contentsOfDirectory(atPath: ingest)
        #expect(before.contains { $0.hasPrefix("blob-\(pid)-") && $0.hasSuffix(".tmp") })

        #expect(try store.removeTemporaryFiles(ofProcess: pid) == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: ingest).sorted() == others.sorted())
        #expect(try store.removeTemporaryFiles(ofProcess: pid) == 0)
        writer.abort()
    }
}
