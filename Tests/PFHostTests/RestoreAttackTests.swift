import Foundation
import Testing
import PFModel
import PFStore
import PFSystem

/// Each finding of the second outside review of restore and the read side, as a regression test.
@Suite("Restore and read-side findings from the second review")
struct RestoreAttackTests {
    typealias Agent = ReferencePluginTests.Agent

    /// Runs `command` with `/bin/sh -c`, pfhost first on the PATH.
    static func shell(_ command: String) throws -> ProcessOutput {
        try run("/bin/sh", ["-c", command], environment: ["PATH": productsDirectory + ":/usr/bin:/bin"])
    }

    @Test("restore --force refuses a TARGET holding a mount point, and removing a tree never enters one (its files survive)")
    func forceStopsAtMounts() throws {
        let agent = try Agent()
        _ = try agent.manifest(["--tag", "main"])
        let target = agent.dir.file("target")
        #expect(try RestoreTests.restore(agent, "main", to: target).status == 0)
        let source = agent.dir.directory("elsewhere/deep")
        try Data("precious\n".utf8).write(to: URL(fileURLWithPath: source + "/PRECIOUS"))
        try FileManager.default.createDirectory(atPath: target + "/data", withIntermediateDirectories: true)
        let mount = try run("/usr/bin/mount", ["--bind", agent.dir.file("elsewhere"), target + "/data"])
        guard mount.status == 0 else {
            print("skipped: this test needs to mount (root with CAP_SYS_ADMIN): \(mount.stderr)")
            return
        }
        defer { _ = try? run("/usr/bin/umount", [target + "/data"]) }
        let forced = try RestoreTests.restore(agent, "main", to: target, ["--force"])
        #expect(forced.status == 73 && forced.stderr.contains("\(target)/data is a mount point inside \(target)"), "\(forced)")
        #expect(FileManager.default.fileExists(atPath: source + "/PRECIOUS"))
        #expect(FileManager.default.fileExists(atPath: target + "/pfhost.json"), "TARGET is left as it was")
        // The same guard in the removal itself, for a mount that appears after the check.
        #expect(throws: SystemCallError.self) { try SystemCalls().removeTree(target) }
        #expect(FileManager.default.fileExists(atPath: source + "/PRECIOUS"))
    }

    @Test("pfhost refuses to run in a directory whose path is not UTF-8 (exit 64), instead of writing into its U+FFFD twin")
    func workingDirectoryNotUTF8() throws {
        let agent = try Agent()
        let output = try Self.shell("cd '\(agent.dir.path)' && mkdir \"$(printf 'cwd\\377')\" && cd \"$(printf 'cwd\\377')\" && pfhost init")
        #expect(output.status == 64 && output.stderr.contains("is not valid UTF-8") && output.stderr.contains("cwd\\x{ff}"), "\(output)")
        #expect(!FileManager.default.fileExists(atPath: agent.dir.file("cwd\u{FFFD}")), "nothing is made in the directory the lossy name names")
    }

    @Test("a file-size limit fails the restore naming the file (exit 2), with no signal and no partial directory left")
    func fileSizeLimit() throws {
        let agent = try Agent()
        _ = try agent.manifest(["--tag", "main"])
        let target = agent.dir.file("target")
        let output = try Self.shell("ulimit -f 2; exec pfhost restore main --plugins '\(agent.plugins)' --store '\(agent.store)' --to '\(target)'")
        #expect(output.status == 2 && output.stderr.contains("File too large"), "\(output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: agent.dir.path).filter { $0.contains(".pfhost-partial-") } == [])
        #expect(!FileManager.default.fileExists(atPath: target))
    }

    @Test("a reader that went away is exit 74, not death by SIGPIPE")
    func closedPipe() throws {
        let agent = try Agent()
        _ = try agent.manifest(["--tag", "main"])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: productsDirectory + "/pfhost")
        process.arguments = ["log", "--store", agent.store]
        let pipe = Pipe()
        // The read end is closed before pfhost starts: its first write gets EPIPE.
        try pipe.fileHandleForReading.close()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        try pipe.fileHandleForWriting.close()
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 74, "\(process.terminationReason) \(process.terminationStatus)")
    }

    @Test("world restore refuses pack members that overlap, packed files of 64 KiB or more, and paths deeper than 512 levels")
    func hostilePacks() throws {
        let agent = try Agent()
        let (_, base) = try agent.manifest()
        func file(_ path: String, offset: Int, size: Int) -> String {
            #"{"mode":420,"mtime_ns":0,"offset":\#(offset),"pack":0,"path":"\#(path)","size":\#(size),"type":"file"}"#
        }
        let cases: [(tag: String, entries: [String], pack: [UInt8], message: String)] = [
            ("overlap", [file("a", offset: 0, size: 5), file("b", offset: 0, size: 5)], Array("hello".utf8), "overlap those of an earlier entry"),
            ("large", [file("big", offset: 0, size: 65536)], [UInt8](repeating: 7, count: 65536), "in a pack, where a capture packs only files under 65536 bytes"),
            ("deep", [file(Array(repeating: "d", count: 513).joined(separator: "/"), offset: 0, size: 5)], Array("hello".utf8), "deeper than 512 directory levels"),
        ]
        for item in cases {
            try RestoreSecurityTests.commitHostileWorld(agent, base: base, entries: item.entries, pack: item.pack, tag: item.tag)
            let output = try RestoreTests.restore(agent, item.tag, to: agent.dir.file("t-" + item.tag), ["--only", "world"])
            #expect(output.status == 2 && output.stderr.contains(item.message), "\(item.tag): \(output)")
        }
        // Members laid end to end, as a capture writes them, restore.
        try RestoreSecurityTests.commitHostileWorld(agent, base: base, entries: [file("a", offset: 0, size: 2), file("b", offset: 2, size: 3)],
                                                    pack: Array("hello".utf8), tag: "adjacent")
        let adjacent = try RestoreTests.restore(agent, "adjacent", to: agent.dir.file("t-adjacent"), ["--only", "world"])
        #expect(adjacent.status == 0, "\(adjacent)")
        #expect(try String(contentsOfFile: agent.dir.file("t-adjacent/world/tree/b"), encoding: .utf8) == "llo")
    }

    @Test("file names reach the terminal escaped in plugins' table, snapshot's errors, restore's and init's paths; bidi overrides too")
    func escapes() throws {
        let agent = try Agent()
        let evil = agent.plugins + "/evil\u{1B}]0;OWNED\u{07}\n.so"
        try Data("not an ELF file".utf8).write(to: URL(fileURLWithPath: evil))
        let plugins = try pfhost(["plugins", "--plugins", agent.plugins])
        #expect(!plugins.stdout.contains("\u{1B}") && plugins.stdout.contains("evil\\e]0;OWNED\\u{7}\\n.so"), "\(plugins)")
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: evil)
        let snapshot = try pfhost(["snapshot", "--plugins", agent.plugins, "--store", agent.store, "--config", agent.root + "/pfhost.json"])
        #expect(snapshot.status != 0 && !snapshot.stderr.contains("\u{1B}"), "\(snapshot)")
        #expect(snapshot.stderr.split(separator: "\n").allSatisfy { $0.hasPrefix("pfhost: error: ") || $0.hasPrefix("pfhost: ") }, "\(snapshot)")
        try FileManager.default.removeItem(atPath: evil)
        _ = try agent.manifest(["--tag", "main"])
        let target = agent.dir.file("t\u{1B}[31m\u{202E}x")
        let restore = try RestoreTests.restore(agent, "main", to: target)
        #expect(restore.status == 0 && !restore.stdout.contains("\u{1B}") && !restore.stdout.contains("\u{202E}") && restore.stdout.contains("t\\e[31m\\u{202e}x"), "\(restore)")
        let initialized = try pfhost(["init", "--store", agent.dir.file("s\u{1B}[31m")])
        #expect(initialized.status == 0 && initialized.stdout.contains("s\\e[31m"), "\(initialized)")
    }

    @Test("a blob written in place after it was hashed and handed out fails the restore (exit 3) naming it; untouched, the same restore succeeds")
    func blobWrittenDuringRestore() throws {
        let setup = try PluginSettingsTests.Setup()
        #expect(try setup.snapshot.snapshot(["--tag", "t"]).status == 0)
        let store = try SnapshotStore(opening: setup.snapshot.store)
        let blob = try #require(try store.snapshot(store.resolve("t")).manifest.trace.blobs.first)
        let path = store.blobPath(blob.digest)
        for write in [true, false] {
            let barrier = setup.snapshot.dir.directory("barrier-\(write)")
            let target = setup.snapshot.dir.file("target-\(write)")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: productsDirectory + "/pfhost")
            process.arguments = ["restore", "t", "--plugins", setup.snapshot.plugins, "--store", setup.snapshot.store, "--to", target,
                                 "--only", "trace", "--set", "trace.restore_mode=pause-after-open", "--set", "trace.root=\(barrier)"]
            let errors = Pipe()
            process.standardOutput = FileHandle.nullDevice
            process.standardError = errors
            try process.run()
            // The plugin holds the blob, hashed; wait (bounded) for it to say so.
            let deadline = Date().addingTimeInterval(20)
            while !FileManager.default.fileExists(atPath: barrier + "/opened") && Date() < deadline && process.isRunning { usleep(2000) }
            #expect(FileManager.default.fileExists(atPath: barrier + "/opened"))
            if write {
                // The same bytes written back in place: the content is right, but nobody can know that.
                let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
                try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
                let handle = try #require(FileHandle(forWritingAtPath: path))
                try handle.write(contentsOf: bytes)
                try handle.close()
            }
            _ = FileManager.default.createFile(atPath: barrier + "/go", contents: nil)
            process.waitUntilExit()
            let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            if write {
                #expect(process.terminationStatus == 3 && stderr.contains("\(path)") && stderr.contains("was written while the restore read it"), "\(stderr)")
                #expect(!FileManager.default.fileExists(atPath: target))
            } else {
                #expect(process.terminationStatus == 0, "\(stderr)")
            }
        }
    }

    @Test("a restore setting the plugin's restore never reads is named as a likely typo; one it reads is not")
    func unreadRestoreSetting() throws {
        let agent = try Agent()
        _ = try agent.manifest(["--tag", "main"])
        let typo = try RestoreTests.restore(agent, "main", to: agent.dir.file("t1"), ["--only", "world", "--set", "world.skip_specail=true"])
        #expect(typo.status == 0 && typo.stderr.contains("world.skip_specail set but never read by the restore of plugin"), "\(typo)")
        let right = try RestoreTests.restore(agent, "main", to: agent.dir.file("t2"), ["--only", "world", "--set", "world.skip_special=true"])
        #expect(right.status == 0 && !right.stderr.contains("never read"), "\(right)")
    }
}
