import Foundation
import Testing
import PFModel

/// What an outside tester's plugins did to crash the host this round (`Tests/Fixtures/hostile_calls.c`),
/// and arguments no UTF-8 decoder accepts: each now ends as the exit statuses promise.
@Suite("Hostile calls and arguments")
struct HostileCallTests {
    typealias Setup = SnapshotCommandTests.Setup

    /// The plugins built from hostile_calls.c, for the life of the test process.
    private static let built: TemporaryDirectory = {
        let dir = TemporaryDirectory()
        _ = Unmanaged.passRetained(dir)
        return dir
    }()

    /// A trace plugin built from hostile_calls.c with `define`.
    private func hostile(_ define: String) throws -> String {
        try PluginBuilder.build(kind: .trace, defines: [define], source: "hostile_calls.c",
                                into: Self.built.path, name: "\(define).so")
    }

    @Test("lengths beyond INT64_MAX to put_blob, blob_write and set_layer are PF_ERR_INVALID, and the capture goes on")
    func hugeLengths() throws {
        let plugin = try hostile("HOSTILE_LENGTHS")
        let setup = Setup(replacing: [.trace: plugin])
        let output = try setup.snapshot()
        #expect(output.status == 0 && !output.signalled, "\(output)")
    }

    @Test("a layer over 16 MiB is refused without being read, naming the limit")
    func hugeLayer() throws {
        let plugin = try hostile("HOSTILE_BIG_LAYER")
        let setup = Setup(replacing: [.trace: plugin])
        let output = try setup.snapshot()
        #expect(output.status == 2, "\(output)")
        #expect(output.stderr.contains("called set_layer with 17825792 bytes; a layer is at most 16 MiB of JSON"), "\(output)")
    }

    @Test("an id without a NUL in its first 256 bytes is refused by name; plugins lists the others")
    func unterminatedID() throws {
        let plugin = try hostile("HOSTILE_UNTERMINATED_ID")
        let setup = Setup(replacing: [.trace: plugin])
        let output = try pfhost("plugins", "--plugins", setup.plugins)
        #expect(output.status == 2 && !output.signalled, "\(output)")
        #expect(output.stdout.contains("pf_plugin.id has no terminating NUL within 256 bytes"), "\(output)")
        #expect(output.stdout.contains("org.pfhost.test.plugin"), "\(output)")
        let snapshot = try setup.snapshot()
        #expect(snapshot.status == 2 && snapshot.stderr.contains("pf_plugin.id has no terminating NUL"), "\(snapshot)")
    }

    @Test("an argument that is not UTF-8 is refused naming it (exit 64), never read as another name")
    func nonUTF8Argument() throws {
        let setup = Setup()
        // Foundation's Process passes Swift strings; the raw bytes come through a shell.
        let raw = try run("/bin/sh", ["-c", "exec \"$0\" snapshot --plugins \"$1\" --store \"$2\" --set \"$(printf 'trace.path=conv\\377.jsonl')\"",
                                      productsDirectory + "/pfhost", setup.plugins, setup.store])
        #expect(raw.status == 64, "\(raw)")
        #expect(raw.stderr.contains("argument 7 (trace.path=conv\\x{ff}.jsonl) is not valid UTF-8"), "\(raw)")
        #expect(!FileManager.default.fileExists(atPath: setup.store))
        let output = try setup.snapshot(["--set", "trace.path=conv\u{FFFD}.jsonl"])
        // U+FFFD itself is a character like any other.
        #expect(!output.stderr.contains("is not valid UTF-8"), "\(output)")
    }

    @Test("a plugin file whose name is not UTF-8 is refused naming it, never stood in for by the file its decoded name names")
    func nonUTF8PluginName() throws {
        let setup = Setup()
        let world = try FileManager.default.destinationOfSymbolicLink(atPath: setup.plugins + "/world.so")
        // zw\xff.so, and its decoded twin zw\u{FFFD}.so (both the world plugin), made through a shell.
        let made = try run("/bin/sh", ["-c", "ln -s \"$1\" \"$0/$(printf 'zw\\377.so')\" && ln -s \"$1\" \"$0/zw\u{FFFD}.so\"", setup.plugins, world])
        #expect(made.status == 0, "\(made)")
        let output = try setup.snapshot()
        #expect(output.status == 2, "\(output)")
        #expect(output.stderr.contains("\(setup.plugins)/zw\\x{ff}.so: cannot be loaded: its file name is not valid UTF-8"), "\(output)")
        #expect(!output.stderr.contains("two plugins capture"), "\(output)")
        let listed = try pfhost("plugins", "--plugins", setup.plugins)
        #expect(listed.status == 2 && listed.stdout.contains("zw\\x{ff}.so") && listed.stdout.contains("not valid UTF-8"), "\(listed)")
        // Listed in name order, by its escaped form.
        let listedWorld = try #require(listed.stdout.range(of: "/world.so")), odd = try #require(listed.stdout.range(of: "zw\\x{ff}.so"))
        #expect(listedWorld.lowerBound < odd.lowerBound, "\(listed)")
        let isolated = try setup.snapshot(["--isolate"])
        #expect(isolated.status == 2 && isolated.stderr.contains("zw\\x{ff}.so: cannot be loaded: its file name is not valid UTF-8"), "\(isolated)")
    }

    @Test("a pfhost environment variable that is not UTF-8 is refused naming it (exit 64), nothing made where its decoded value points",
          arguments: [("PFHOST_STORE", "list"), ("PFHOST_PLUGINS", "snapshot --store s")])
    func nonUTF8Environment(_ name: String, _ command: String) throws {
        let dir = TemporaryDirectory()
        let raw = try run("/bin/sh", ["-c", "cd \"$1\" && \(name)=\"$(printf 'v\\377')\" exec \"$0\" \(command)", productsDirectory + "/pfhost", dir.path])
        #expect(raw.status == 64, "\(raw)")
        #expect(raw.stderr.hasPrefix("pfhost: error: $\(name) (v\\x{ff}) is not valid UTF-8"), "\(raw)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test("a registry variable that is not UTF-8 fails push and pull naming it (exit 78, its bytes unprinted), and no other command",
          arguments: ["PFHOST_REGISTRY_USERNAME", "PFHOST_REGISTRY_PASSWORD", "DOCKER_CONFIG"])
    func nonUTF8RegistryEnvironment(_ name: String) throws {
        let setup = Setup()
        #expect(try setup.snapshot(["--tag", "t"]).status == 0)
        let other = name == "PFHOST_REGISTRY_USERNAME" ? "PFHOST_REGISTRY_PASSWORD=p " : name == "PFHOST_REGISTRY_PASSWORD" ? "PFHOST_REGISTRY_USERNAME=u " : ""
        let push = try run("/bin/sh", ["-c", "\(other)\(name)=\"$(printf 'v\\377')\" exec \"$0\" push t 127.0.0.1:1/a:t --store \"$1\"", productsDirectory + "/pfhost", setup.store])
        #expect(push.status == 78, "\(push)")
        #expect(push.stderr.contains("$\(name) is not valid UTF-8") && !push.stderr.contains("x{ff}"), "\(push)")
        let list = try run("/bin/sh", ["-c", "\(name)=\"$(printf 'v\\377')\" exec \"$0\" list --store \"$1\"", productsDirectory + "/pfhost", setup.store])
        #expect(list.status == 0, "\(list)")
    }
}
