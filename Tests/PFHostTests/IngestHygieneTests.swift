import Foundation
import Testing
import PFModel
import PFStore

/// Failed, cancelled and killed snapshots leave nothing behind for good, and concurrent writers to
/// one tag never lose history.
@Suite("Ingest hygiene and linear history")
struct IngestHygieneTests {
    typealias Setup = SnapshotCommandTests.Setup

    /// The temporary files in the store's `ingest/`.
    static func temporaryFiles(_ store: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: store + "/ingest")) ?? []).filter { $0.hasSuffix(".tmp") }.sorted()
    }

    @Test("a failed snapshot removes every temporary file it wrote (batch mode's waiting blobs included)")
    func failedSnapshot() throws {
        let setup = Setup()
        #expect(try setup.snapshot().status == 0)
        // Four plugins store blobs that wait in ingest/ for the flush; the fifth fails.
        let output = try setup.snapshot(["--set", "trace.mode=fail", "--set", "world.content=new world bytes"])
        #expect(output.status == 2, "\(output)")
        #expect(Self.temporaryFiles(setup.store) == [])
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: setup.store + "/blobs/sha256")).contains {
            (try? String(contentsOfFile: setup.store + "/blobs/sha256/" + $0, encoding: .utf8)) == "new world bytes"
        })
    }

    @Test("kill -9 during snapshots, then one clean snapshot: no temporary file of the killed ones is left")
    func killedSnapshots() throws {
        let setup = Setup()
        #expect(try setup.snapshot(["--tag", "t"]).status == 0)
        var seen = Set<String>()
        for _ in 0..<4 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: productsDirectory + "/pfhost")
            process.arguments = ["snapshot", "--plugins", setup.plugins, "--store", setup.store, "--set", "cache.mode=slow-blob", "--timeout", "60"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Killed while its blob is being written (its file is there), never at a fixed time.
            while Self.temporaryFiles(setup.store).allSatisfy(seen.contains) && process.isRunning { usleep(2000) }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            seen.formUnion(Self.temporaryFiles(setup.store))
        }
        // Each new snapshot removed what the killed one before it left; the last one's files remain.
        #expect(seen.count >= 4)
        #expect(Self.temporaryFiles(setup.store).count >= 1)
        let verify = try pfhost("verify", "--all", "--store", setup.store)
        #expect(verify.status == 1 && verify.stdout.contains("left by writers that are gone (the store is valid; the next pull or snapshot removes them)"), "\(verify)")
        #expect(try setup.snapshot(["--tag", "t"]).status == 0)
        #expect(Self.temporaryFiles(setup.store) == [])
        let locks = try FileManager.default.contentsOfDirectory(atPath: setup.store + "/ingest").filter { $0.hasPrefix("owner-") }
        #expect(locks.count <= 1, "\(locks)")
        let clean = try pfhost("verify", "--all", "--store", setup.store)
        #expect(clean.status == 0, "\(clean)")
    }

    @Test("a FIFO or a symlink named like a gone writer's temporary file is reported and removed, never opened or followed")
    func plantedTemporaryFiles() throws {
        let setup = Setup()
        #expect(try setup.snapshot().status == 0)
        let ingest = setup.store + "/ingest"
        let outside = setup.dir.file("outside")
        try Data("keep".utf8).write(to: URL(fileURLWithPath: outside))
        #expect(mkfifo(ingest + "/load-first-00000000deadbee0-3.tmp", 0o644) == 0)
        try FileManager.default.createSymbolicLink(atPath: ingest + "/blob-00000000deadbee1-1.tmp", withDestinationPath: outside)
        let verify = try pfhost("verify", "--all", "--store", setup.store)
        #expect(verify.status == 1 && verify.stdout.contains("2 temporary files (0 bytes) left by writers that are gone"), "\(verify)")
        #expect(try setup.snapshot().status == 0)
        #expect(Self.temporaryFiles(setup.store) == [])
        #expect(try String(contentsOfFile: outside, encoding: .utf8) == "keep")
        #expect(try pfhost("verify", "--all", "--store", setup.store).status == 0)
    }

    @Test("a gone writer's files are reclaimed when its lock is a symlink, a FIFO or a directory, and a claim that is not a file goes",
          arguments: ["symlink", "fifo", "directory"])
    func plantedOwnerLocks(_ kind: String) throws {
        let setup = Setup()
        #expect(try setup.snapshot().status == 0)
        let ingest = setup.store + "/ingest"
        let outside = setup.dir.file("outside")
        try Data("keep".utf8).write(to: URL(fileURLWithPath: outside))
        let token = "aaaaaaaaaaaaaaaa"
        let lock = ingest + "/owner-\(token).lock"
        switch kind {
        case "symlink": try FileManager.default.createSymbolicLink(atPath: lock, withDestinationPath: outside)
        case "fifo": #expect(mkfifo(lock, 0o644) == 0)
        default: try FileManager.default.createDirectory(atPath: lock, withIntermediateDirectories: false)
        }
        try Data(count: 1000).write(to: URL(fileURLWithPath: ingest + "/blob-\(token)-1.tmp"))
        #expect(mkfifo(ingest + "/stat-cache-\(token)-2.tmp", 0o644) == 0)
        // Claims that are not regular files: never a live writer's.
        #expect(mkfifo(ingest + "/owner-bbbbbbbbbbbbbbbb.lock.new", 0o644) == 0)
        try FileManager.default.createSymbolicLink(atPath: ingest + "/owner-cccccccccccccccc.lock.new", withDestinationPath: outside)
        // The blob, the FIFO and the two claims; the lock itself is not counted.
        let verify = try pfhost("verify", "--all", "--store", setup.store)
        #expect(verify.status == 1 && verify.stdout.contains("4 temporary files (1000 bytes) left by writers that are gone"), "\(verify)")
        #expect(try setup.snapshot().status == 0)
        let left = try FileManager.default.contentsOfDirectory(atPath: ingest)
        #expect(!left.contains { $0.hasSuffix(".tmp") || $0.hasSuffix(".lock.new") }, "\(left)")
        #expect(left.contains("owner-\(token).lock") == (kind == "directory"), "\(left)")
        #expect(try String(contentsOfFile: outside, encoding: .utf8) == "keep")
    }

    @Test("verify reports a lock file that is not a regular file (every write would fail on it)", arguments: ["index.lock", "gc.lock"])
    func plantedLockFile(_ name: String) throws {
        let setup = Setup()
        #expect(try setup.snapshot().status == 0)
        let path = setup.store + "/ingest/" + name
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: setup.dir.file("elsewhere"))
        for all in [["--all"], []] {
            let verify = try pfhost(["verify", "--store", setup.store] + all)
            #expect(verify.status == 1 && verify.stdout.contains("\(path): is not a regular file (a symlink)"), "\(verify)")
        }
        #expect(!FileManager.default.fileExists(atPath: setup.dir.file("elsewhere")))
    }

    @Test("4 processes × 25 snapshots with --tag main form one chain of 100")
    func concurrentTag() throws {
        let setup = Setup()
        let group = DispatchGroup()
        let failures = FailureLog()
        for _ in 0..<4 {
            group.enter()
            DispatchQueue.global().async {
                defer { group.leave() }
                for _ in 0..<25 {
                    do {
                        let output = try setup.snapshot(["--tag", "main", "--durability", "none"])
                        if output.status != 0 { failures.add("\(output)") }
                    } catch { failures.add("\(error)") }
                }
            }
        }
        group.wait()
        #expect(failures.all == [])
        let log = try pfhost("log", "main", "--store", setup.store)
        #expect(log.status == 0, "\(log)")
        #expect(log.stdout.split(separator: "\n").count == 100, "\(log.stdout)")
        // Every snapshot is in the chain: no parent has two children.
        let store = try SnapshotStore(opening: setup.store)
        let ids = try store.history().map(\.id)
        #expect(ids.count == 100)
        let parents = try ids.compactMap { try store.snapshot($0).manifest.parents.first }
        #expect(Set(parents).count == parents.count && parents.count == 99)
    }

    @Test("an explicit --parent is never rewritten")
    func explicitParent() throws {
        let setup = Setup()
        let first = try Digest(parsing: try setup.snapshot(["--tag", "main"]).stdout.trimmingCharacters(in: .newlines))
        _ = try setup.snapshot(["--tag", "main"])
        let output = try setup.snapshot(["--tag", "main", "--parent", first.description])
        let id = try Digest(parsing: output.stdout.trimmingCharacters(in: .newlines))
        #expect(try SnapshotStore(opening: setup.store).snapshot(id).manifest.parents == [first])
    }

    final class FailureLog: @unchecked Sendable {
        private let lock = NSLock()
        private var messages: [String] = []
        func add(_ message: String) { lock.withLock { messages.append(message) } }
        var all: [String] { lock.withLock { messages } }
    }
}

@Suite("Creating one store from many processes")
struct ConcurrentCreationTests {
    @Test("8 processes snapshotting into a store that does not exist yet all land; the store is created once")
    func concurrentCreation() throws {
        let setup = SnapshotCommandTests.Setup()
        let group = DispatchGroup()
        let failures = IngestHygieneTests.FailureLog()
        for _ in 0..<8 {
            group.enter()
            DispatchQueue.global().async {
                defer { group.leave() }
                do {
                    let output = try setup.snapshot(["--durability", "none"])
                    if output.status != 0 { failures.add("\(output)") }
                } catch { failures.add("\(error)") }
            }
        }
        group.wait()
        #expect(failures.all == [])
        #expect(try SnapshotStore(opening: setup.store).history().count >= 1)
        #expect(try pfhost("verify", "--all", "--store", setup.store).status == 0)
        #expect(IngestHygieneTests.temporaryFiles(setup.store) == [])
    }
}
