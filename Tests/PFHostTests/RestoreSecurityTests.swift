import Foundation
import Testing
import PFModel
import PFStore
@testable import PFHost

/// A world index entry for a file of `size` bytes at offset 0 of the pack.
private func fileEntry(_ path: String, size: Int = 5) -> String {
    #"{"mode":420,"mtime_ns":0,"offset":0,"pack":0,"path":"# + String(decoding: CanonicalJSON.encode(.string(path)), as: UTF8.self)
        + #","size":\#(size),"type":"file"}"#
}

/// Restores of snapshots an attacker wrote: world and model layers whose entries lead out of
/// TARGET, go through a symlink, or name device nodes; and plugins that try every way out. Nothing
/// may be written outside TARGET, and the failure names the entry.
@Suite("Restore security")
struct RestoreSecurityTests {
    typealias Agent = ReferencePluginTests.Agent

    /// Commits a copy of `base` whose world tree is `entries` (JSON objects, as text) over one
    /// pack holding `pack`, tagged `tag`.
    static func commitHostileWorld(_ agent: Agent, base: Manifest, entries: [String], pack: [UInt8], tag: String) throws {
        let store = try SnapshotStore(opening: agent.store)
        let packBlob = try store.putBlob(pack)
        let index = Array(#"{"entries":["#.utf8) + Array(entries.joined(separator: ",").utf8)
            + Array(#"],"format":"pfhost-world-tree","packs":[""#.utf8) + Array(packBlob.digest.description.utf8) + Array(#""],"version":1}"#.utf8)
        let indexBlob = try store.putBlob(index)
        var manifest = base
        manifest.world.blobs = [
            Descriptor(mediaType: "application/vnd.pfhost.world-tree.v1+json", digest: indexBlob.digest, size: indexBlob.size),
            Descriptor(mediaType: "application/vnd.pfhost.world-pack.v1", digest: packBlob.digest, size: packBlob.size),
        ]
        manifest.world.annotations = [:]
        manifest.world.content = WorldContent(
            root: "/hostile", tree: WorldTree(index: indexBlob.digest, entryCount: entries.count, totalBytes: Int64(pack.count),
                                              packs: [WorldPack(digest: packBlob.digest, key: nil, fileCount: 1)]))
        _ = try store.commitSnapshot(manifest, tag: tag)
    }


    /// Everything under `directory`, recursively (paths relative to it), not following symlinks.
    static func listing(_ directory: String) -> Set<String> {
        Set(FileManager.default.enumerator(atPath: directory)?.compactMap { $0 as? String } ?? [])
    }

    @Test("world: hostile index entries fail the restore naming the entry, and nothing is written outside TARGET", arguments: [
        ("../x", [fileEntry("../x")]),
        ("a/../../x", [#"{"mode":493,"mtime_ns":0,"path":"a","type":"directory"}"#, fileEntry("a/../../x")]),
        ("/etc/pfhost-restore-hostile", [fileEntry("/etc/pfhost-restore-hostile")]),
        ("", [fileEntry("")]),
        ("link/passwd", [#"{"mode":511,"mtime_ns":0,"path":"link","target":"OUTSIDE","type":"symlink"}"#, fileEntry("link/passwd")]),
        ("etc/pfhost-restore-hostile", [#"{"mode":511,"mtime_ns":0,"path":"etc","target":"/etc","type":"symlink"}"#, fileEntry("etc/pfhost-restore-hostile")]),
        ("link/sub", [#"{"mode":511,"mtime_ns":0,"path":"link","target":"OUTSIDE","type":"symlink"}"#, #"{"mode":493,"mtime_ns":0,"path":"link/sub","type":"directory"}"#]),
        ("dev/sda", [#"{"mode":493,"mtime_ns":0,"path":"dev","type":"directory"}"#, #"{"mode":432,"mtime_ns":0,"path":"dev/sda","type":"other"}"#]),
        ("dev/null", [#"{"mode":493,"mtime_ns":0,"path":"dev","type":"directory"}"#, #"{"mode":438,"mtime_ns":0,"path":"dev/null","type":"chardev"}"#]),
        ("twice", [fileEntry("twice"), fileEntry("twice")]),
        ("beyond", [fileEntry("beyond", size: 6)]),
    ])
    func hostileWorld(name: String, entries: [String]) throws {
        let agent = try Agent()
        let (_, base) = try agent.manifest()
        let outside = agent.dir.directory("outside")
        let resolved = entries.map { $0.replacingOccurrences(of: "OUTSIDE", with: outside) }
        try Self.commitHostileWorld(agent, base: base, entries: resolved, pack: Array("hello".utf8), tag: "hostile")
        let before = Self.listing(agent.dir.path)
        let target = agent.dir.file("target")
        let output = try RestoreTests.restore(agent, "hostile", to: target, ["--only", "world"])
        #expect(output.status == 2, "\(output)")
        #expect(output.stderr.contains("world tree entry '\(name)'"), "\(output)")
        #expect(!FileManager.default.fileExists(atPath: target))
        #expect(RestoreTests.partials(in: agent.dir.path).isEmpty)
        #expect(Self.listing(agent.dir.path) == before, "something appeared: \(Self.listing(agent.dir.path).subtracting(before))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: "/etc/pfhost-restore-hostile"))
    }

    @Test("world: special files are left out with world.skip_special=true, and reported")
    func skipSpecial() throws {
        let agent = try Agent()
        let (_, base) = try agent.manifest()
        try Self.commitHostileWorld(agent, base: base, entries: [
            #"{"mode":493,"mtime_ns":0,"path":"run","type":"directory"}"#, #"{"mode":432,"mtime_ns":0,"path":"run/agent.sock","type":"other"}"#,
            fileEntry("run/ok.txt"),
        ], pack: Array("hello".utf8), tag: "special")
        let target = agent.dir.file("target")
        let output = try RestoreTests.restore(agent, "special", to: target, ["--only", "world", "--set", "world.skip_special=true"])
        #expect(output.status == 0, "\(output)")
        #expect(output.stderr.contains("pfhost: world: skipped: run/agent.sock: special files"), "\(output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: target + "/world/tree/run") == ["ok.txt"])
    }

    @Test("world: setuid and setgid bits of files are not restored unless --keep-setid, and are reported; a directory keeps setgid")
    func setIDBits() throws {
        let agent = try Agent()
        let (_, base) = try agent.manifest()
        // 0o2775 directory, 0o4755 and 0o2755 files: what a snapshot from elsewhere may record.
        try Self.commitHostileWorld(agent, base: base, entries: [
            #"{"mode":1533,"mtime_ns":0,"path":"shared","type":"directory"}"#,
            #"{"mode":2541,"mtime_ns":0,"offset":0,"pack":0,"path":"shared/su","size":5,"type":"file"}"#,
            #"{"mode":1517,"mtime_ns":0,"offset":5,"pack":0,"path":"shared/sg","size":5,"type":"file"}"#,
        ], pack: Array("hellohello".utf8), tag: "setid")
        func mode(_ path: String) -> mode_t {
            var info = stat()
            return lstat(path, &info) == 0 ? info.st_mode & 0o7777 : 0
        }

        let target = agent.dir.file("cleared")
        let output = try RestoreTests.restore(agent, "setid", to: target, ["--only", "world", "--json"])
        #expect(output.status == 0, "\(output)")
        #expect(mode(target + "/world/tree/shared/su") == 0o755 && mode(target + "/world/tree/shared/sg") == 0o755)
        #expect(mode(target + "/world/tree/shared") == 0o2775)
        #expect(output.stderr.contains("pfhost: world: setid_not_restored: world/tree/shared/"), "\(output)")
        #expect(output.stderr.contains("and 1 more: setuid/setgid bits not restored (restore with --keep-setid to keep them)"), "\(output)")
        let json = try JSONParser.parse(Array(output.stdout.utf8.dropLast()))
        #expect(json["layers"]?["world"]?["reports"]?["setid_not_restored"] != nil, "\(output)")

        let kept = agent.dir.file("kept")
        let keeping = try RestoreTests.restore(agent, "setid", to: kept, ["--only", "world", "--keep-setid"])
        #expect(keeping.status == 0, "\(keeping)")
        #expect(mode(kept + "/world/tree/shared/su") == 0o4755 && mode(kept + "/world/tree/shared/sg") == 0o2755)
        #expect(!keeping.stderr.contains("setid_not_restored"), "\(keeping)")
    }

    @Test("model: a file path leading out of the model directory fails the restore naming it")
    func hostileModel() throws {
        let agent = try Agent()
        var (_, manifest) = try agent.manifest()
        manifest.model.content.files[0].path = "../../escaped.json"
        _ = try SnapshotStore(opening: agent.store).commitSnapshot(manifest, tag: "hostile")
        let before = Self.listing(agent.dir.path)
        let target = agent.dir.file("target")
        let output = try RestoreTests.restore(agent, "hostile", to: target, ["--only", "model"])
        #expect(output.status == 2, "\(output)")
        #expect(output.stderr.contains("model file '../../escaped.json': not a path inside the model directory"), "\(output)")
        #expect(Self.listing(agent.dir.path) == before)
    }

    @Test("a careless plugin: every way out of its directory is refused by the host (INVALID or IO), and nothing escapes")
    func carelessPlugin() throws {
        let setup = SnapshotCommandTests.Setup()
        #expect(try setup.snapshot(["--tag", "t"]).status == 0)
        let before = Self.listing(setup.dir.path)
        let target = setup.dir.file("target")
        let output = try run(productsDirectory + "/pfhost", ["restore", "t", "--plugins", setup.plugins, "--store", setup.store,
                                                             "--to", target, "--only", "world", "--set", "world.restore_mode=escape"])
        #expect(output.status == 0, "\(output)")
        // ../x, /abs, a/../../x, mkdir ../d, symlink up -> .. (allowed: stored verbatim), a file and a
        // directory through it (refused: symlinks are never followed), attributes of the link itself,
        // a path setting leading out, a path setting under a key the loader would not resolve.
        #expect(output.stderr.contains("pfhost: world: escape: -1 -1 -1 -1 0 -2 -2 0 -1 -1"), "\(output)")
        let after = Self.listing(setup.dir.path)
        #expect(after.subtracting(before).allSatisfy { $0.hasPrefix("target") }, "\(after.subtracting(before))")
        #expect(!after.contains { $0.contains("escaped") })
        #expect(!FileManager.default.fileExists(atPath: "/tmp/pfhost-escaped-absolute"))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: target + "/world/up") == "..")
    }

    @Test("restore services answer PF_ERR_UNSUPPORTED during a capture; a plugin's failure and a blob it may not read are reported")
    func servicesOutsideRestore() throws {
        let setup = SnapshotCommandTests.Setup()
        let captured = try setup.snapshot(["--set", "world.mode=restore-services", "--tag", "t"])
        #expect(captured.status == 0, "\(captured)")
        let id = try Digest(parsing: captured.stdout.trimmingCharacters(in: .newlines))
        #expect(try SnapshotStore(opening: setup.store).snapshot(id).manifest.world.annotations["restore_services"] == "-4 -4 -4 -4 -4 -4")

        func restore(_ extra: [String]) throws -> ProcessOutput {
            try run(productsDirectory + "/pfhost", ["restore", "t", "--plugins", setup.plugins, "--store", setup.store,
                                                    "--to", setup.dir.file("target")] + extra)
        }
        let failed = try restore(["--set", "world.restore_mode=fail"])
        #expect(failed.status == 2, "\(failed)")
        #expect(failed.stderr.contains("pfhost: error: plugin \(setup.plugins)/world.so (org.pfhost.test.plugin, world layer) failed to restore: simulated restore failure"), "\(failed)")
        #expect(!FileManager.default.fileExists(atPath: setup.dir.file("target")))
        let ghost = try restore(["--set", "world.restore_mode=ghost"])
        #expect(ghost.status == 2 && ghost.stderr.contains("not one of the world layer's blobs"), "\(ghost)")
        let reported = try restore(["--set", "world.restore_mode=report", "--json"])
        #expect(reported.status == 0, "\(reported)")
        let json = try JSONParser.parse(Array(reported.stdout.utf8.dropLast()))
        #expect(json["layers"]?["world"]?["reports"] == .object(["restored": .string("content.bin"), "pending": .string("fx-1,fx-2")]))
        #expect(json["layers"]?["world"]?["config"] == .object(["mode": .string("file"), "path": .string("world/content.bin")]))
        // The restored directory snapshots to the same blobs: the test plugin's round trip.
        let again = try setup.snapshot(["--config", setup.dir.file("target/pfhost.json")])
        #expect(again.status == 0, "\(again)")
        let store = try SnapshotStore(opening: setup.store)
        let second = try store.snapshot(try Digest(parsing: again.stdout.trimmingCharacters(in: .newlines))).manifest
        let first = try store.snapshot(try store.resolve("t")).manifest
        #expect(second.layerSummaries.map { $0.blobs.map(\.digest) } == first.layerSummaries.map { $0.blobs.map(\.digest) })
    }

    @Test("a layer captured by another plugin is not restored by this one")
    func otherPlugin() throws {
        let agent = try Agent()
        _ = try agent.manifest(["--tag", "main"])
        let setup = SnapshotCommandTests.Setup()
        let output = try run(productsDirectory + "/pfhost", ["restore", "main", "--plugins", setup.plugins, "--store", agent.store,
                                                             "--to", agent.dir.file("b"), "--only", "trace"])
        #expect(output.status == 2, "\(output)")
        #expect(output.stderr.contains("cannot restore the trace layer: dev.pfhost.trace.chat 1.2.0 captured it"), "\(output)")
    }
}
