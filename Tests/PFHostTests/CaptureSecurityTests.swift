import CPFShims
import Foundation
import Synchronization
import Testing
import PFModel
import PFStore

/// Capture as an attacker would try it: names no decoder accepts, trees swapped for symlinks while
/// they are walked, files that grow or vanish, symlinks out of the model directory.
@Suite("Capture security and fidelity")
struct CaptureSecurityTests {
    typealias Agent = ReferencePluginTests.Agent

    // MARK: Helpers

    /// Creates `relative` (bytes, any but NUL; `/` separates directories, created as needed) under
    /// `root` holding `content`, without any string decoding on the way.
    static func create(_ root: String, _ relative: [UInt8], _ content: [UInt8]) throws {
        var directory = open(root, O_RDONLY | O_DIRECTORY)
        guard directory >= 0 else { throw POSIXError(.init(rawValue: errno)!) }
        let components = relative.split(separator: UInt8(ascii: "/")).map { Array($0) + [0] }
        for (number, component) in components.enumerated() {
            let name = component.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self) }
            if number == components.count - 1 {
                let fd = openat(directory, name, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                guard fd >= 0 else { throw POSIXError(.init(rawValue: errno)!) }
                content.withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
                close(fd)
            } else {
                mkdirat(directory, name, 0o755)
                let next = openat(directory, name, O_RDONLY | O_DIRECTORY)
                guard next >= 0 else { throw POSIXError(.init(rawValue: errno)!) }
                close(directory)
                directory = next
            }
        }
        close(directory)
    }

    /// Every file of a snapshot's world tree: its path bytes (from `path` or `path_bytes`) and the
    /// bytes stored for it (from its pack and offset, or its blob), and the raw index records.
    static func worldFiles(_ agent: Agent, _ manifest: Manifest) throws -> (files: [[UInt8]: [UInt8]], records: [JSONValue]) {
        let store = try SnapshotStore(opening: agent.store)
        let indexBytes = try store.readBlob(manifest.world.content.tree.index)
        let index = try JSONParser.parse(indexBytes)
        #expect(CanonicalJSON.encode(index) == indexBytes, "the index is canonical JSON")
        guard case .array(let packs)? = index["packs"], case .array(let entries)? = index["entries"] else {
            throw Failure("the index has no packs or entries")
        }
        let packBytes = try packs.map { try store.readBlob(Digest(parsing: $0.stringValue!)) }
        var files: [[UInt8]: [UInt8]] = [:]
        for entry in entries where entry["type"] == .string("file") {
            let path: [UInt8]
            if let text = entry["path"]?.stringValue {
                #expect(entry["path_bytes"] == nil)
                path = Array(text.utf8)
            } else {
                let encoded = try #require(entry["path_bytes"]?.stringValue)
                path = try #require(Base64.decode(encoded))
                #expect(String(validating: path, as: UTF8.self) == nil, "path_bytes only for names that are not UTF-8")
            }
            guard case .int(let size)? = entry["size"] else { throw Failure("no size for \(path)") }
            let content: [UInt8]
            if case .int(let pack)? = entry["pack"], case .int(let offset)? = entry["offset"] {
                content = Array(packBytes[Int(pack)][Int(offset)..<Int(offset + size)])
            } else {
                let blob = try #require(entry["blob"]?.stringValue)
                content = try store.readBlob(Digest(parsing: blob))
            }
            #expect(files[path] == nil, "\(path) is listed twice")
            files[path] = content
        }
        return (files, entries)
    }

    /// Whether any file under `directory` (recursively) contains `needle`.
    static func anyFile(under directory: String, contains needle: [UInt8]) -> String? {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return nil }
        for case let relative as String in walker {
            let path = directory + "/" + relative
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                  let data = FileManager.default.contents(atPath: path) else { continue }
            if data.range(of: Data(needle)) != nil { return path }
        }
        return nil
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    // MARK: Names

    @Test("world: names that are not UTF-8, newlines, 255-byte names and a path over 4,096 bytes are stored byte-exact")
    func hostileNames() throws {
        let agent = try Agent()
        let workspace = agent.root + "/workspace"
        let long = [UInt8](repeating: UInt8(ascii: "n"), count: 250)
        var deep: [UInt8] = []
        for level in 0..<18 { deep += long + [UInt8(ascii: "0") + UInt8(level % 10), UInt8(ascii: "/")] }
        deep += Array("deep.txt".utf8)
        #expect(deep.count > 4096)
        let expected: [[UInt8]: [UInt8]] = [
            Array("bad".utf8) + [0xff]: Array("the 0xff file".utf8),
            Array("bad\u{FFFD}".utf8): Array("the U+FFFD file".utf8),
            Array("new\nline".utf8): Array("a name with a newline".utf8),
            Array("tab\tand \"quote\" \\".utf8): Array("json escapes".utf8),
            [UInt8](repeating: UInt8(ascii: "x"), count: 255): Array("255 bytes of name".utf8),
            [0xc3, 0x28, UInt8(ascii: "/"), 0xe2, 0x82]: Array("in a directory that is not UTF-8 either".utf8),
            [0x80] + Array("big.bin".utf8): [UInt8](repeating: 0x5a, count: 100_000),
            deep: Array("at the bottom of 4 KiB of path".utf8),
        ]
        for (path, content) in expected { try Self.create(workspace, path, content) }
        let output = try agent.snapshot(["--set", "world.exclude="])
        #expect(output.status == 0, "\(output)")
        let id = try Digest(parsing: output.stdout.trimmingCharacters(in: .newlines))
        let manifest = try SnapshotStore(opening: agent.store).snapshot(id).manifest
        let (files, records) = try Self.worldFiles(agent, manifest)
        for (path, content) in expected {
            #expect(files[path] == content, "\(String(decoding: path, as: UTF8.self))")
        }
        // Every entry, files and directories, has exactly one of path and path_bytes.
        for record in records { #expect((record["path"] == nil) != (record["path_bytes"] == nil), "\(record)") }
        // And the index is what the published schema says.
        let indexFile = agent.dir.file("index.json")
        try Data(try SnapshotStore(opening: agent.store).readBlob(manifest.world.content.tree.index)).write(to: URL(fileURLWithPath: indexFile))
        let validation = try run("/usr/bin/env", ["python3", repositoryRoot + "/plugin-sdk/schema/validate.py", "world-tree-index.schema.json", indexFile])
        #expect(validation.status == 0, "\(validation)")
        #expect(manifest.world.content.tree.entryCount == records.count)
    }

    // MARK: Races

    @Test("world: a directory swapped for a symlink to outside the root, in a loop, never lets outside bytes into the store")
    func symlinkSwapRace() throws {
        let agent = try Agent()
        let workspace = agent.root + "/workspace"
        let outside = agent.dir.directory("outside")
        let marker = Array("OUTSIDE-\(UUID().uuidString)".utf8)
        // A small file (packed) and a large one (put_fd) outside, under the same names as inside.
        try Data(marker + Array(" shadow".utf8)).write(to: URL(fileURLWithPath: outside + "/shadow"))
        try Data(marker + [UInt8](repeating: 1, count: 70_000)).write(to: URL(fileURLWithPath: outside + "/big"))
        try FileManager.default.createDirectory(atPath: workspace + "/d", withIntermediateDirectories: true)
        try Data("inside".utf8).write(to: URL(fileURLWithPath: workspace + "/d/shadow"))
        try Data([UInt8](repeating: 2, count: 70_000)).write(to: URL(fileURLWithPath: workspace + "/d/big"))
        try FileManager.default.createSymbolicLink(atPath: workspace + "/link", withDestinationPath: outside)

        let stop = Atomic<Bool>(false)
        let swaps = Atomic<Int>(0)
        let swapper = Thread {
            let dir = open(workspace, O_RDONLY | O_DIRECTORY)
            defer { close(dir) }
            while !stop.load(ordering: .relaxed) {
                if pf_rename_exchange(dir, "d", dir, "link") == 0 { swaps.add(1, ordering: .relaxed) }
            }
        }
        swapper.start()
        var succeeded = 0
        for _ in 0..<25 {
            let output = try agent.snapshot(["--durability", "none"])
            if output.status == 0 { succeeded += 1 }
        }
        stop.store(true, ordering: .relaxed)
        while !swapper.isFinished { usleep(1000) }
        #expect(swaps.load(ordering: .relaxed) > 100, "the race ran")
        #expect(succeeded > 0, "some snapshots land while the tree moves")
        #expect(Self.anyFile(under: agent.store, contains: marker) == nil, "outside bytes reached the store")
    }

    @Test("world: a log appended to while it is captured is stored as the prefix the walk saw, marked changed")
    func growingFile() throws {
        let agent = try Agent()
        let log = agent.root + "/workspace/agent.log"
        let line = Array("a line the agent keeps writing\n".utf8)
        var initial: [UInt8] = []
        while initial.count < 10 << 20 { initial += line }
        try Data(initial).write(to: URL(fileURLWithPath: log))
        let stop = Atomic<Bool>(false)
        let writer = Thread {
            let fd = open(log, O_WRONLY | O_APPEND)
            defer { close(fd) }
            while !stop.load(ordering: .relaxed) { line.withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) } }
        }
        writer.start()
        // The writer is appending before the snapshot starts (on a loaded machine it may start late).
        var info = stat()
        while stat(log, &info) == 0 && Int(info.st_size) <= initial.count { usleep(100) }
        let output = try agent.snapshot()
        stop.store(true, ordering: .relaxed)
        while !writer.isFinished { usleep(1000) }
        #expect(output.status == 0, "\(output)")
        let id = try Digest(parsing: output.stdout.trimmingCharacters(in: .newlines))
        let manifest = try SnapshotStore(opening: agent.store).snapshot(id).manifest
        let (files, records) = try Self.worldFiles(agent, manifest)
        let stored = try #require(files[Array("agent.log".utf8)])
        let final = [UInt8](try Data(contentsOf: URL(fileURLWithPath: log)))
        #expect(stored.count >= initial.count && stored.count < final.count)
        #expect(Array(final[0..<stored.count]) == stored, "what is stored is a prefix of the file")
        let record = try #require(records.first { $0["path"] == .string("agent.log") })
        #expect(record["changed"] == .bool(true))
        #expect(output.stderr.contains("\(agent.root)/workspace/agent.log changed while it was captured"), "\(output)")
        // A tree that moved is never reused whole.
        #expect(manifest.world.annotations["dev.pfhost.world.tree_key"] == nil)
    }

    @Test("world: files removed and re-created during capture never fail a snapshot")
    func vanishingFiles() throws {
        let agent = try Agent()
        let churn = agent.root + "/workspace/churn"
        try FileManager.default.createDirectory(atPath: churn, withIntermediateDirectories: true)
        let names = (0..<40).map { "f\($0)" }
        for name in names { try Data("v1 \(name)".utf8).write(to: URL(fileURLWithPath: churn + "/" + name)) }
        let stop = Atomic<Bool>(false)
        let churner = Thread {
            var round = 0
            while !stop.load(ordering: .relaxed) {
                let name = names[round % names.count]
                unlink(churn + "/" + name)
                if round % 2 == 0 { rmdir(churn + "/sub"); mkdir(churn + "/sub", 0o755) }
                let fd = open(churn + "/" + name, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                if fd >= 0 { Array("v1 \(name)".utf8).withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }; close(fd) }
                round += 1
            }
        }
        churner.start()
        var outputs: [ProcessOutput] = []
        for _ in 0..<8 { outputs.append(try agent.snapshot(["--durability", "none"])) }
        stop.store(true, ordering: .relaxed)
        while !churner.isFinished { usleep(1000) }
        for output in outputs {
            #expect(output.status == 0, "\(output)")
            guard output.status == 0 else { continue }
            let id = try Digest(parsing: output.stdout.trimmingCharacters(in: .newlines))
            let (files, _) = try Self.worldFiles(agent, try SnapshotStore(opening: agent.store).snapshot(id).manifest)
            // Whatever was captured of the churned files is their whole, right content.
            for (path, content) in files where path.starts(with: Array("churn/".utf8)) {
                let name = String(decoding: path.dropFirst(6), as: UTF8.self)
                #expect(content == Array("v1 \(name)".utf8) || content.isEmpty, "\(name)")
            }
        }
    }

    // MARK: Private keys

    @Test("world: files holding a private key are left out by default, with a warning naming each; keep_private_keys keeps them")
    func privateKeys() throws {
        let agent = try Agent()
        let workspace = agent.root + "/workspace"
        // Built at run time, so the repository holds no literal key for scanners to flag.
        let body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" + String(repeating: "A", count: 40)
        let openssh = "-----BEGIN OPENSSH " + "PRIVATE KEY-----\n\(body)\n-----END OPENSSH " + "PRIVATE KEY-----\n"
        let rsa = "-----BEGIN RSA " + "PRIVATE KEY-----\n\(body)\n-----END RSA " + "PRIVATE KEY-----\n"
        try FileManager.default.createDirectory(atPath: workspace + "/.ssh", withIntermediateDirectories: true)
        try Data(openssh.utf8).write(to: URL(fileURLWithPath: workspace + "/.ssh/id_ed25519"))
        try Data(("config: x\n" + rsa).utf8).write(to: URL(fileURLWithPath: workspace + "/server.pem"))
        try Data("-----BEGIN PUBLIC KEY-----\nnot secret\n".utf8).write(to: URL(fileURLWithPath: workspace + "/server.pub"))
        let trust = ["--set", "world.racy_window_ms=0", "--tag", "keys"]
        // Kept first, so the next snapshot has a parent whose packs hold the keys.
        let kept = try agent.snapshot(trust + ["--set", "world.keep_private_keys=true"])
        #expect(kept.status == 0, "\(kept)")
        let keptID = try Digest(parsing: kept.stdout.trimmingCharacters(in: .newlines))
        let (keptFiles, _) = try Self.worldFiles(agent, try SnapshotStore(opening: agent.store).snapshot(keptID).manifest)
        #expect(keptFiles[Array(".ssh/id_ed25519".utf8)] == Array(openssh.utf8))

        let output = try agent.snapshot(trust)
        #expect(output.status == 0, "\(output)")
        #expect(output.stderr.contains("\(workspace)/.ssh/id_ed25519 left out: it holds a private key"), "\(output)")
        #expect(output.stderr.contains("\(workspace)/server.pem left out: it holds a private key"), "\(output)")
        let id = try Digest(parsing: output.stdout.trimmingCharacters(in: .newlines))
        let store = try SnapshotStore(opening: agent.store)
        let manifest = try store.snapshot(id).manifest
        let (files, _) = try Self.worldFiles(agent, manifest)
        #expect(files[Array(".ssh/id_ed25519".utf8)] == nil && files[Array("server.pem".utf8)] == nil)
        #expect(files[Array("server.pub".utf8)] != nil)
        // Not one blob of this snapshot holds the key, even though the parent's packs did.
        for blob in manifest.world.blobs {
            let bytes = try store.readBlob(blob.digest)
            #expect(!String(decoding: bytes, as: UTF8.self).contains(body), "\(blob.digest)")
        }
    }

    @Test("world: a DOM holding a private key (even across the read chunks) is left out with a warning; keep_private_keys stores it byte for byte")
    func privateKeyInDOM() throws {
        let agent = try Agent()
        let dom = agent.root + "/browser/page.html"
        let body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" + String(repeating: "B", count: 40)
        let key = "-----BEGIN RSA " + "PRIVATE KEY-----\n\(body)\n-----END RSA " + "PRIVATE KEY-----\n"
        // The header straddles the first 1 MiB chunk.
        var page = Array("<html><body><pre>".utf8)
        page += Array(repeating: UInt8(ascii: " "), count: (1 << 20) - page.count - 12)
        page += Array((key + "</pre></body></html>\n").utf8)
        try Data(page).write(to: URL(fileURLWithPath: dom))

        let output = try agent.snapshot()
        #expect(output.status == 0, "\(output)")
        #expect(output.stderr.contains("\(dom) (world.dom) left out: it holds a private key (set world.keep_private_keys=true to keep it)"), "\(output)")
        let id = try Digest(parsing: output.stdout.trimmingCharacters(in: .newlines))
        let manifest = try SnapshotStore(opening: agent.store).snapshot(id).manifest
        #expect(manifest.world.content.dom == nil)
        #expect(Self.anyFile(under: agent.store, contains: Array(body.utf8)) == nil, "the key is in the store")

        let kept = try agent.snapshot(["--set", "world.keep_private_keys=true"])
        #expect(kept.status == 0 && !kept.stderr.contains("left out"), "\(kept)")
        let keptID = try Digest(parsing: kept.stdout.trimmingCharacters(in: .newlines))
        let store = try SnapshotStore(opening: agent.store)
        let keptDOM = try #require(try store.snapshot(keptID).manifest.world.content.dom)
        #expect(keptDOM.size == Int64(page.count))
        #expect(try store.readBlob(keptDOM.digest) == page)

        // Other secrets in a DOM are not redacted: it is stored byte for byte.
        let token = "gh" + "p_" + String(repeating: "a1B2", count: 9)
        try Data("<html>\(token)</html>".utf8).write(to: URL(fileURLWithPath: dom))
        let plain = try agent.snapshot()
        let plainID = try Digest(parsing: plain.stdout.trimmingCharacters(in: .newlines))
        let plainDOM = try #require(try store.snapshot(plainID).manifest.world.content.dom)
        #expect(try store.readBlob(plainDOM.digest) == Array("<html>\(token)</html>".utf8))
    }

    // MARK: Model

    @Test("model: a symlink in the model directory is skipped with a warning, never followed")
    func modelSymlink() throws {
        let agent = try Agent()
        let secret = agent.dir.file("secret.txt")
        let marker = "MODEL-OUTSIDE-\(UUID().uuidString)"
        try Data(marker.utf8).write(to: URL(fileURLWithPath: secret))
        try FileManager.default.createSymbolicLink(atPath: agent.root + "/model/notes.txt", withDestinationPath: secret)
        try FileManager.default.createSymbolicLink(atPath: agent.root + "/model/adapters/evil", withDestinationPath: agent.dir.path)
        let output = try agent.snapshot()
        #expect(output.status == 0, "\(output)")
        #expect(output.stderr.contains("\(agent.root)/model/notes.txt: skipped: a symlink"), "\(output)")
        let id = try Digest(parsing: output.stdout.trimmingCharacters(in: .newlines))
        let manifest = try SnapshotStore(opening: agent.store).snapshot(id).manifest
        #expect(!manifest.model.content.files.contains { $0.path == "notes.txt" })
        #expect(Self.anyFile(under: agent.store, contains: Array(marker.utf8)) == nil)
    }
}
