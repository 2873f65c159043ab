import Foundation
import Testing
import PFModel
import PFStore

/// Each finding of the outside security review of the capture side, as a regression test.
@Suite("Hostile inputs found in review")
struct HostileInputTests {
    typealias Agent = ReferencePluginTests.Agent

    /// Runs pfhost under timeout(1), so a hang fails the test instead of stalling it.
    static func pfhostBounded(_ arguments: [String], environment: [String: String] = [:]) throws -> ProcessOutput {
        try run("/usr/bin/timeout", ["60", productsDirectory + "/pfhost"] + arguments, environment: environment)
    }

    // MARK: Paths an agent controls

    @Test("a symlink at a configured path or inside the KV dump is refused, never followed", arguments: [
        ("kv/pages.bin", "cache"), ("trace/conversation.jsonl", "trace"), ("effects/ledger.jsonl", "effects"),
        ("browser/page.html", "world"), ("workspace", "world"), ("kv", "cache"), ("kv/meta.json", "cache"),
    ])
    func symlinkedInputs(relative: String, kind: String) throws {
        let agent = try Agent()
        let marker = "ROOT-ONLY-\(UUID().uuidString)"
        let secret = agent.dir.file("secret")
        try Data(marker.utf8).write(to: URL(fileURLWithPath: secret))
        let original = agent.root + "/" + relative
        try FileManager.default.moveItem(atPath: original, toPath: agent.dir.file("moved"))
        // Point the link at what was there (valid input, so only the link itself is refused) but
        // for pages.bin, at the secret.
        try FileManager.default.createSymbolicLink(atPath: original, withDestinationPath: relative == "kv/pages.bin" ? secret : agent.dir.file("moved"))
        let output = try agent.snapshot()
        #expect(output.status == 2, "\(output)")
        #expect(output.stderr.contains("\(original) is a symlink: pfhost does not follow a symlink"), "\(output)")
        #expect(output.stderr.contains("libpf-\(kind).so"), "\(output)")
        #expect(CaptureSecurityTests.anyFile(under: agent.store, contains: Array(marker.utf8)) == nil)
    }

    // MARK: Crafted parents

    @Test("a crafted parent with impossible counts is not trusted: the ledger and trace are read in full, nothing overflows")
    func craftedParentCounts() throws {
        let agent = try Agent()
        let (first, _) = try agent.manifest(["--tag", "t"])
        let store = try SnapshotStore(opening: agent.store)
        var evil = try store.snapshot(first).manifest
        evil.effects.content.entryCount = Int.max
        evil.effects.content.pendingCount = Int.max
        evil.trace.content.messageCount = Int.max
        try store.commitSnapshot(evil, tag: "evil")
        // Append one valid line to each: the parent's prefix matches, so its counts would be used.
        let ledger = agent.root + "/effects/ledger.jsonl"
        let lines = try agent.read("effects/ledger.jsonl").split(separator: "\n")
        let prev = Digest.of(Array(lines.last!.utf8))
        let entry = #"{"id":"fx-new","time":"2026-11-28T00:00:00Z","kind":"http.post","target":"https://x","idempotency_key":"k","status":"pending","prev":"\#(prev)"}"#
        try (try agent.read("effects/ledger.jsonl") + entry + "\n").write(toFile: ledger, atomically: false, encoding: .utf8)
        try (try agent.read("trace/conversation.jsonl") + #"{"role":"user","content":"one more"}"# + "\n")
            .write(toFile: agent.root + "/trace/conversation.jsonl", atomically: false, encoding: .utf8)
        let (_, manifest) = try agent.manifest(["--parent", "evil"])
        #expect(manifest.effects.content.entryCount == lines.count + 1)
        #expect(manifest.trace.content.messageCount > 0 && manifest.trace.content.messageCount < 1000)
    }

    // MARK: The store's own files

    @Test("a FIFO at ingest/index.json.tmp or a temporary name does not hang a snapshot")
    func fifoInIngest() throws {
        let setup = SnapshotCommandTests.Setup()
        #expect(try setup.snapshot().status == 0)
        #expect(mkfifo(setup.store + "/ingest/index.json.tmp", 0o644) == 0)
        let output = try Self.pfhostBounded(["snapshot", "--plugins", setup.plugins, "--store", setup.store, "--tag", "t"])
        #expect(output.status == 0, "\(output)")
    }

    @Test("ingest/index.lock as a symlink is never followed: nothing is created where it points")
    func symlinkedLock() throws {
        let setup = SnapshotCommandTests.Setup()
        #expect(try setup.snapshot().status == 0)
        let target = setup.dir.file("created-by-pfhost")
        try? FileManager.default.removeItem(atPath: setup.store + "/ingest/index.lock")
        try FileManager.default.createSymbolicLink(atPath: setup.store + "/ingest/index.lock", withDestinationPath: target)
        let output = try Self.pfhostBounded(["snapshot", "--plugins", setup.plugins, "--store", setup.store])
        #expect(output.status == 3, "\(output)")
        #expect(output.stderr.contains("index.lock"), "\(output)")
        #expect(!FileManager.default.fileExists(atPath: target))
    }

    @Test("index.json as a symlink is reported, not read through")
    func symlinkedIndex() throws {
        let setup = SnapshotCommandTests.Setup()
        #expect(try setup.snapshot().status == 0)
        let copy = setup.dir.file("index-copy.json")
        try FileManager.default.moveItem(atPath: setup.store + "/index.json", toPath: copy)
        try FileManager.default.createSymbolicLink(atPath: setup.store + "/index.json", withDestinationPath: copy)
        let verify = try pfhost("verify", "--all", "--store", setup.store)
        #expect(verify.status != 0, "\(verify)")
        #expect((verify.stdout + verify.stderr).contains("index.json"), "\(verify)")
    }

    @Test("a damaged blob the parent's layer reuses is named, with what to do")
    func damagedReusedBlob() throws {
        let agent = try Agent()
        let (_, first) = try agent.manifest(["--tag", "t", "--set", "world.racy_window_ms=0"])
        let pack = try #require(first.world.content.tree.packs?.first)
        let path = agent.store + "/blobs/sha256/" + pack.digest.hex
        try FileManager.default.removeItem(atPath: path)
        try Data("short".utf8).write(to: URL(fileURLWithPath: path))
        let output = try agent.snapshot(["--tag", "t", "--set", "world.racy_window_ms=0"])
        // The world plugin hands back its parent's layer unchanged: the damage is the store's.
        #expect(output.status == 3, "\(output)")
        #expect(output.stderr.contains("handed back unchanged by plugin"), "\(output)")
        #expect(output.stderr.contains("when it reused the blob from the parent layer, that blob is damaged in the store: run 'pfhost verify --all'"), "\(output)")
    }

    @Test("a directory where a blob belongs fails the write, saying to remove it")
    func directoryUnderBlobName() throws {
        let setup = SnapshotCommandTests.Setup()
        let id = try Digest(parsing: try setup.snapshot().stdout.trimmingCharacters(in: .newlines))
        let blob = try SnapshotStore(opening: setup.store).snapshot(id).manifest.world.blobs[0].digest
        let path = setup.store + "/blobs/sha256/" + blob.hex
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        let output = try setup.snapshot()
        #expect(output.status == 3, "\(output)")
        #expect(output.stderr.contains("a directory where a blob belongs: remove it"), "\(output)")
    }

    // MARK: Output

    @Test("control characters in file names and manifests are printed escaped, never raw")
    func controlCharacters() throws {
        let agent = try Agent()
        let body = "-----BEGIN RSA " + "PRIVATE KEY-----\nAAAA\n-----END RSA " + "PRIVATE KEY-----\n"
        try CaptureSecurityTests.create(agent.root + "/workspace", Array("key\nFAKE: all good \u{1B}[2J".utf8), Array(body.utf8))
        let output = try agent.snapshot(["--agent-kind", "k\u{1B}[31mRED\nx"])
        #expect(output.status == 0, "\(output)")
        #expect(output.stderr.contains("key\\nFAKE: all good \\e[2J left out: it holds a private key"), "\(output)")
        #expect(!output.stderr.contains("\u{1B}"))
        for command in [["show", "--store", agent.store, output.stdout.trimmingCharacters(in: .newlines)], ["log", "--store", agent.store]] {
            let shown = try run(productsDirectory + "/pfhost", command)
            #expect(shown.status == 0 && !shown.stdout.contains("\u{1B}") && shown.stdout.contains("k\\e[31mRED\\nx"), "\(shown)")
        }
    }

    @Test("SOURCE_DATE_EPOCH past year 9999 is refused, never written as an impossible date")
    func hugeEpoch() throws {
        let setup = SnapshotCommandTests.Setup()
        for epoch in ["253402300800", "9223372036854775807"] {
            let output = try setup.snapshot(environment: ["SOURCE_DATE_EPOCH": epoch])
            #expect(output.status == 78, "\(output)")
            #expect(output.stderr.contains("SOURCE_DATE_EPOCH='\(epoch)' is not a whole number of seconds from 1970 to 9999-12-31"), "\(output)")
        }
        #expect(try setup.snapshot(environment: ["SOURCE_DATE_EPOCH": "253402300799"]).status == 0)
    }

    @Test("a chain of 600 nested directories snapshots quickly; below 512 levels its contents are left out with a warning")
    func deepTree() throws {
        let agent = try Agent()
        var path: [UInt8] = Array("deep".utf8)
        for _ in 0..<600 { path += Array("/a".utf8) }
        try CaptureSecurityTests.create(agent.root + "/workspace", path + Array("/bottom.txt".utf8), Array("deep".utf8))
        let clock = ContinuousClock()
        let start = clock.now
        let output = try agent.snapshot()
        #expect(clock.now - start < .seconds(20))
        #expect(output.status == 0, "\(output)")
        #expect(output.stderr.contains("its contents are left out: deeper than 512 directory levels"), "\(output)")
    }
}
