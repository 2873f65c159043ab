import Foundation
import Testing
import PFModel
import PFStore

/// `pfhost show`, `log`, `verify`, `plugins` and `init`, run as processes.
@Suite("Read-side commands")
struct ReadCommandsTests {
    /// A store with two snapshots tagged `agent` (the second a child of the first).
    private func storeWithChain() throws -> (SnapshotCommandTests.Setup, Digest, Digest) {
        let setup = SnapshotCommandTests.Setup()
        let environment = ["SOURCE_DATE_EPOCH": "1800000000"]
        let first = try Digest(parsing: setup.snapshot(["--tag", "agent", "--agent-kind", "coder", "--agent-version", "1.0.0"],
                                                       environment: environment).stdout.trimmingCharacters(in: .newlines))
        let second = try Digest(parsing: setup.snapshot(["--tag", "agent", "--agent-kind", "coder", "--agent-version", "1.0.1",
                                                         "--agent-fingerprint", "fp", "--set", "world.content=v2"],
                                                        environment: environment).stdout.trimmingCharacters(in: .newlines))
        return (setup, first, second)
    }

    @Test("show prints the agent, each layer and the parents")
    func show() throws {
        let (setup, first, second) = try storeWithChain()
        let output = try pfhost("show", "agent", "--store", setup.store)
        #expect(output.status == 0, "\(output)")
        #expect(output.stdout == """
            snapshot \(second)
            tags     agent
            created  2027-01-15T08:00:00Z
            agent    coder 1.0.1 (fingerprint fp)
            parents  \(first)
            layers
              model    org.pfhost.test.plugin 1.0.0             1 blob     31 B
              cache    org.pfhost.test.plugin 1.0.0             1 blob     31 B
              world    org.pfhost.test.plugin 1.0.0             1 blob     2 B
              effects  org.pfhost.test.plugin 1.0.0             1 blob     33 B
              trace    org.pfhost.test.plugin 1.0.0             1 blob     31 B
            total    5 distinct blobs, 128 B

            """)
    }

    @Test("show --json prints the manifest, which decodes")
    func showJSON() throws {
        let (setup, first, _) = try storeWithChain()
        let output = try pfhost("show", String(first.hex.prefix(12)), "--json", "--store", setup.store)
        #expect(output.status == 0, "\(output)")
        let manifest = try CanonicalJSON.decode(Manifest.self, from: Array(output.stdout.utf8.dropLast()))
        #expect(manifest.agent.version == "1.0.0")
        #expect(try SnapshotStore(opening: setup.store).snapshot(first).manifest == manifest)
    }

    @Test("log follows first parents, newest first; without a reference it starts at the newest")
    func log() throws {
        let (setup, first, second) = try storeWithChain()
        let expected = """
            \(second.hex.prefix(12))  2027-01-15T08:00:00Z  coder 1.0.1  (agent)
            \(first.hex.prefix(12))  2027-01-15T08:00:00Z  coder 1.0.0

            """
        #expect(try pfhost("log", "agent", "--store", setup.store).stdout == expected)
        #expect(try pfhost("log", "--store", setup.store).stdout == expected)
        #expect(try pfhost("log", first.description, "--store", setup.store).stdout == "\(first.hex.prefix(12))  2027-01-15T08:00:00Z  coder 1.0.0\n")
    }

    @Test("log and list read each snapshot's root document, not its layers: a damaged layer config leaves them working, and verify names it")
    func logReadsNoLayer() throws {
        let (setup, first, second) = try storeWithChain()
        let before = try pfhost("log", "--store", setup.store)
        let listed = try pfhost("list", "--store", setup.store)
        // The second snapshot's world layer config: valid JSON, but not a world layer.
        let store = try SnapshotStore(opening: setup.store)
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: store.blobPath(second)))) as? [String: Any]
        let world = try #require((index?["manifests"] as? [[String: Any]])?[2]["digest"] as? String)
        let layerManifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: store.blobPath(Digest(parsing: world))))) as? [String: Any]
        let config = try Digest(parsing: try #require((layerManifest?["config"] as? [String: Any])?["digest"] as? String))
        let bytes = try Data(contentsOf: URL(fileURLWithPath: store.blobPath(config)))
        try FileManager.default.removeItem(atPath: store.blobPath(config))
        _ = FileManager.default.createFile(atPath: store.blobPath(config), contents: Data(repeating: UInt8(ascii: " "), count: bytes.count))
        let after = try pfhost("log", "--store", setup.store)
        #expect(before.status == 0 && after.status == 0 && after.stdout == before.stdout, "\(after)")
        let listedAfter = try pfhost("list", "--store", setup.store)
        #expect(listed.status == 0 && listedAfter.status == 0 && listedAfter.stdout == listed.stdout, "\(listedAfter)")
        let verify = try pfhost("verify", "--all", "--store", setup.store)
        #expect(verify.status == 1 && verify.stdout.contains(store.blobPath(config)), "\(verify)")
        #expect(try pfhost("verify", first.description, "--store", setup.store).status == 0)
    }

    @Test("unknown references and missing stores are one-line errors with their own exit status")
    func errors() throws {
        let (setup, _, _) = try storeWithChain()
        let unknown = try pfhost("show", "nope", "--store", setup.store)
        #expect(unknown.status == 4)
        #expect(unknown.stderr == "pfhost: error: no snapshot 'nope' in \(setup.store) (see 'pfhost log' or index.json for what it holds)\n")
        let short = try pfhost("log", "abc", "--store", setup.store)
        #expect(short.status == 4, "\(short)")
        let missing = try pfhost("show", "agent", "--store", setup.dir.file("elsewhere"))
        #expect(missing.status == 3)
        #expect(missing.stderr.hasPrefix("pfhost: error: \(setup.dir.file("elsewhere")) is not a pfhost store: "))
        #expect(missing.stderr.split(separator: "\n").count == 1)
        // A truncated manifest is named, not a crash.
        let store = try SnapshotStore(opening: setup.store)
        let id = try store.resolve("agent")
        let path = store.blobPath(id)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try FileManager.default.removeItem(atPath: path)
        _ = FileManager.default.createFile(atPath: path, contents: bytes.prefix(20))
        let truncated = try pfhost("show", "agent", "--store", setup.store)
        #expect(truncated.status == 3, "\(truncated)")
        #expect(truncated.stderr == "pfhost: error: \(path) is corrupt: its content does not match its digest (run 'pfhost verify --all' to list every problem)\n")
    }

    @Test("verify lists each problem on its own line and exits 1")
    func verify() throws {
        let (setup, first, second) = try storeWithChain()
        #expect(try pfhost("verify", "--store", setup.store).stdout == "ok: 2 snapshots verified\n")
        #expect(try pfhost("verify", "agent", "--store", setup.store).stdout == "ok: 1 snapshot verified\n")
        let store = try SnapshotStore(opening: setup.store)
        let world = try store.snapshot(second).manifest.world.blobs[0].digest
        try FileManager.default.removeItem(atPath: store.blobPath(world))
        _ = FileManager.default.createFile(atPath: store.blobPath(world), contents: Data("v3".utf8))
        let output = try pfhost("verify", "--all", "--store", setup.store)
        #expect(output.status == 1)
        #expect(output.stdout.hasPrefix("snapshot \(second.hex.prefix(16)): \(store.blobPath(world)): layer blob (application/octet-stream) is damaged: its content hashes to "))
        #expect(output.stdout.split(separator: "\n").count == 1)
        #expect(output.stderr == "pfhost: error: 1 problem found in \(setup.store)\n")
        #expect(try pfhost("verify", first.description, "--store", setup.store).status == 0)
    }

    @Test("plugins lists every file with ok or the reason it would be refused")
    func plugins() throws {
        let setup = SnapshotCommandTests.Setup()
        let good = try pfhost("plugins", "--plugins", setup.plugins)
        #expect(good.status == 0, "\(good)")
        #expect(good.stdout.split(separator: "\n").filter { !$0.hasPrefix("settings of ") }.count == 6)
        #expect(good.stdout.contains("\(setup.plugins)/world.so    org.pfhost.test.plugin  1.0.0    world    1.1  yes      ok"), "\(good)")
        _ = try PluginBuilder.build(kind: .world, defines: ["TEST_ABI_MINOR=4"], into: setup.plugins, name: "newer.so")
        let bad = try pfhost("plugins", "--plugins", setup.plugins, "--json")
        #expect(bad.status == 2)
        let json = try JSONParser.parse(Array(bad.stdout.utf8.dropLast()))
        guard case .array(let rows)? = json["plugins"] else { Issue.record("no rows: \(bad)"); return }
        #expect(rows.count == 6)
        let refused = rows.first { $0["file"] == .string(setup.plugins + "/newer.so") }
        #expect(refused?["status"] == .string("refused"))
        #expect(refused?["reason"] == .string("built for plugin ABI 1.4, newer than this host's ABI 1.1 (upgrade pfhost)"))
        try FileManager.default.removeItem(atPath: setup.plugins + "/newer.so")
        try FileManager.default.removeItem(atPath: setup.plugins + "/trace.so")
        let missing = try pfhost("plugins", "--plugins", setup.plugins)
        #expect(missing.status == 2)
        #expect(missing.stdout.hasSuffix("problem: no plugin in \(setup.plugins) captures the trace layer; every snapshot needs all five\n"), "\(missing)")
    }

    @Test("init creates an empty store that verifies")
    func initialize() throws {
        let dir = TemporaryDirectory()
        let output = try pfhost("init", "--store", dir.file("s"))
        #expect(output.status == 0 && output.stdout == dir.file("s") + "\n", "\(output)")
        #expect(try pfhost("verify", "--all", "--store", dir.file("s")).stdout == "ok: 0 snapshots verified, and every blob\n")
        #expect(try pfhost("log", "--store", dir.file("s")).stdout == "")
    }

    @Test("--version prints the version, the plugin ABI and the Swift runtime")
    func version() throws {
        #expect(try pfhost("--version").stdout.hasPrefix("pfhost 0.1.0 (plugin ABI 1.1, swift-"))
    }
}
