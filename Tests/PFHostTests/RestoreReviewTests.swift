import Foundation
import Testing
import PFModel
import PFStore

/// Each finding of the outside review of restore and `--isolate`, as a regression test.
@Suite("Restore and isolation findings from review")
struct RestoreReviewTests {
    typealias Agent = ReferencePluginTests.Agent

    @Test("restore --force never replaces the store it reads, what holds it, or a directory inside it")
    func targetIsTheStore() throws {
        let agent = try Agent()
        _ = try agent.manifest(["--tag", "main"])
        let blobs = try FileManager.default.contentsOfDirectory(atPath: agent.store + "/blobs/sha256").count
        for target in [agent.store, agent.dir.path, agent.store + "/blobs", agent.store + "/x/.."] {
            let output = try RestoreTests.restore(agent, "main", to: target, ["--force"])
            #expect(output.status != 0, "\(target): \(output)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: agent.store + "/blobs/sha256").count == blobs, "\(target)")
        }
        #expect(try pfhost("verify", "--all", "--store", agent.store).status == 0)
    }

    @Test("what a crafted snapshot puts in a plugin's report is printed escaped, never as a line of its own")
    func reportsEscaped() throws {
        let agent = try Agent()
        let (_, base) = try agent.manifest()
        var manifest = base
        manifest.trace.annotations["dev.pfhost.trace.open_tool_calls"] = #"["c1\npfhost: error: FAKE LINE \u001b[31mRED"]"#
        try SnapshotStore(opening: agent.store).commitSnapshot(manifest, tag: "crafted")
        let output = try RestoreTests.restore(agent, "crafted", to: agent.dir.file("target"), ["--only", "trace"])
        #expect(!output.stderr.contains("\u{1B}"), "\(output)")
        #expect(!output.stderr.split(separator: "\n").contains { $0.hasPrefix("pfhost: error: FAKE") }, "\(output)")
    }

    @Test("a world entry naming itself twice (path and path_bytes) or with a NUL in its name is refused, named in full")
    func entryNames() throws {
        let agent = try Agent()
        let (_, base) = try agent.manifest()
        let both = #"{"mode":420,"mtime_ns":0,"offset":0,"pack":0,"path":"p1","path_bytes":"cDI=","size":5,"type":"file"}"#
        try RestoreSecurityTests.commitHostileWorld(agent, base: base, entries: [both], pack: Array("hello".utf8), tag: "both")
        let twice = try RestoreTests.restore(agent, "both", to: agent.dir.file("t1"), ["--only", "world"])
        #expect(twice.status == 2 && twice.stderr.contains("both path and path_bytes"), "\(twice)")
        let nul = #"{"mode":420,"mtime_ns":0,"offset":0,"pack":0,"path_bytes":"YQBi","size":5,"type":"file"}"#
        try RestoreSecurityTests.commitHostileWorld(agent, base: base, entries: [nul], pack: Array("hello".utf8), tag: "nul")
        let cut = try RestoreTests.restore(agent, "nul", to: agent.dir.file("t2"), ["--only", "world"])
        #expect(cut.status == 2 && cut.stderr.contains("world tree entry 'a\\u{0}b' (entry 1 of"), "\(cut)")
    }

    @Test("snapshot, restore and the other commands fail (exit 74) when what they print cannot reach stdout")
    func stdoutFailure() throws {
        let agent = try Agent()
        let command = "\(productsDirectory)/pfhost snapshot --plugins \(agent.plugins) --store \(agent.store) --config \(agent.root)/pfhost.json"
        let full = try run("/bin/sh", ["-c", command + " > /dev/full"])
        #expect(full.status == 74 && full.stderr.contains("cannot write to standard output"), "\(full)")
        let closed = try run("/bin/sh", ["-c", command + " >&-"])
        #expect(closed.status == 74, "\(closed)")
        // Every command says so, and says what it did all the same only when it did something.
        let pfhost = productsDirectory + "/pfhost"
        for (arguments, done) in [
            ("plugins --plugins \(agent.plugins)", ""),
            ("gc --dry-run --store \(agent.store)", ""),
            ("forget --keep-last 5 --dry-run --store \(agent.store)", ""),
            ("migrate --store \(agent.store)", ""),
            ("init --store \(agent.store)", "; the store is ready"),
        ] {
            let output = try run("/bin/sh", ["-c", "\(pfhost) \(arguments) > /dev/full"])
            #expect(output.status == 74 && output.stderr == "pfhost: error: cannot write to standard output: No space left on device\(done)\n",
                    "\(arguments): \(output)")
        }
    }

    @Test("a half-made owner claim (owner-TOKEN.lock.new) whose process is gone is reclaimed")
    func halfMadeClaim() throws {
        let setup = SnapshotCommandTests.Setup()
        #expect(try setup.snapshot().status == 0)
        let stray = setup.store + "/ingest/owner-0123456789abcdef.lock.new"
        #expect(FileManager.default.createFile(atPath: stray, contents: Data()))
        // Older than a minute: a young one may be a live claim about to be locked.
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -120)], ofItemAtPath: stray)
        #expect(try pfhost("verify", "--all", "--store", setup.store).status == 1)
        #expect(try setup.snapshot().status == 0)
        #expect(!FileManager.default.fileExists(atPath: stray))
    }
}
