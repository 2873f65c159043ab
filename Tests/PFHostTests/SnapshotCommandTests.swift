import Foundation
import Synchronization
import Testing
import PFModel
import PFStore

/// `pfhost snapshot`, run as a process: its output, exit status and effect on the store.
@Suite("pfhost snapshot")
struct SnapshotCommandTests {
    /// A plugin directory and a store beside it.
    struct Setup {
        let dir = TemporaryDirectory()
        let plugins: String
        var store: String { dir.file("store") }

        init(replacing: [LayerKind: String] = [:]) {
            plugins = PluginBuilder.directory(in: dir, replacing: replacing)
        }

        func snapshot(_ extra: [String] = [], environment: [String: String] = [:]) throws -> ProcessOutput {
            try run(productsDirectory + "/pfhost", ["snapshot", "--plugins", plugins, "--store", store] + extra, environment: environment)
        }

        var index: [UInt8] { [UInt8](FileManager.default.contents(atPath: store + "/index.json") ?? Data()) }

        var blobCount: Int { (try? FileManager.default.contentsOfDirectory(atPath: store + "/blobs/sha256").count) ?? 0 }
    }

    private func contentID(_ output: ProcessOutput) throws -> Digest {
        #expect(output.status == 0, "\(output)")
        #expect(output.stdout.hasSuffix("\n") && output.stdout.split(separator: "\n").count == 1, "stdout is the id alone: \(output)")
        return try Digest(parsing: output.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test("prints only the content id, and the store verifies")
    func snapshot() throws {
        let setup = Setup()
        let id = try contentID(setup.snapshot())
        let store = try SnapshotStore(opening: setup.store)
        let manifest = try store.snapshot(id).manifest
        #expect(manifest.world.plugin == PluginRef(id: "org.pfhost.test.plugin", version: "1.0.0"))
        #expect(manifest.parents == [])
        let verify = try pfhost("verify", "--all", "--store", setup.store)
        #expect(verify.status == 0 && verify.stdout == "ok: 1 snapshot verified, and every blob\n", "\(verify)")
    }

    @Test("--json reports each layer's plugin, blobs, bytes and capture time")
    func json() throws {
        let setup = Setup()
        let output = try setup.snapshot(["--json"])
        #expect(output.status == 0, "\(output)")
        let value = try JSONParser.parse(Array(output.stdout.utf8.dropLast()))
        #expect(value["id"]?.stringValue?.hasPrefix("sha256:") == true)
        let world = try #require(value["layers"]?["world"])
        #expect(world["plugin"]?["id"] == .string("org.pfhost.test.plugin"))
        #expect(world["blobs"] == .int(1))
        #expect(world["bytes"] == .int(Int64("test content of the world layer".utf8.count)))
        if case .int(let ms)? = world["capture_ms"] { #expect(ms >= 0) } else { Issue.record("no capture_ms") }
    }

    @Test("progress is drawn on stderr when it is a terminal, and stdout stays the id alone")
    func progressOnTerminal() throws {
        let setup = Setup()
        let out = setup.dir.file("stdout"), log = setup.dir.file("terminal")
        // script(1) gives pfhost a pseudo-terminal; stdout goes to a file, stderr to the terminal.
        let command = "\(productsDirectory)/pfhost snapshot --plugins \(setup.plugins) --store \(setup.store) > \(out)"
        let result = try run("/usr/bin/script", ["-q", "-e", "-c", command, log])
        #expect(result.status == 0, "\(result)")
        let terminal = try String(contentsOfFile: log, encoding: .utf8)
        #expect(terminal.contains("\r\u{1B}[K"), "\(terminal)")
        #expect(terminal.contains("100%"), "\(terminal)")
        let id = try String(contentsOfFile: out, encoding: .utf8)
        #expect(id.hasPrefix("sha256:") && id.split(separator: "\n").count == 1)
        // Not a terminal (the other tests): nothing on stderr.
        #expect(try setup.snapshot().stderr == "")
    }

    @Test("the same state and SOURCE_DATE_EPOCH give the same id in any store")
    func reproducible() throws {
        let one = Setup(), two = Setup()
        let environment = ["SOURCE_DATE_EPOCH": "1800000000"]
        let a = try contentID(one.snapshot(["--agent-kind", "coder"], environment: environment))
        let b = try contentID(two.snapshot(["--agent-kind", "coder", "--durability", "none"], environment: environment))
        #expect(a == b)
        let c = try contentID(two.snapshot(["--agent-kind", "coder", "--set", "trace.content=other"], environment: environment))
        #expect(c != a)
    }

    @Test("host services work from the plugin's own threads, by stream, by file, and abort leaked writers",
          arguments: ["stream", "thread", "file", "leak-writer"])
    func services(mode: String) throws {
        let setup = Setup()
        let file = setup.dir.file("input.bin")
        _ = FileManager.default.createFile(atPath: file, contents: Data(repeating: 7, count: 3 << 20))
        let id = try contentID(setup.snapshot(["--set", "world.mode=\(mode)", "--set", "world.path=\(file)"]))
        let manifest = try SnapshotStore(opening: setup.store).snapshot(id).manifest
        let expected = mode == "file" ? Int64(3 << 20) : Int64("test content of the world layer".utf8.count)
        #expect(manifest.world.blobs.first?.size == expected)
        #expect(try FileManager.default.contentsOfDirectory(atPath: setup.store + "/ingest").filter { $0.hasSuffix(".tmp") } == [])
    }

    @Test("a failing plugin commits nothing and is named with its message", arguments: [
        ("fail", "capture returned PF_ERR_IO: simulated failure: the input could not be read"),
        ("no-layer", "capture returned PF_OK without calling set_layer"),
        ("twice", "called set_layer 2 times; it must be called exactly once"),
        ("invalid-json", "capture returned PF_ERR_INVALID: the layer is not valid JSON: invalid JSON at byte 18: unexpected end of input in an object"),
        ("wrong-kind", "capture returned PF_ERR_INVALID: the layer JSON has kind \"trace\" but the plugin declares the world layer"),
        ("not-a-layer", "capture returned PF_ERR_INVALID: the layer does not match plugin-sdk/schema/layer-world.schema.json: the layer has no \"root\", which is required"),
        ("ghost", "blobs lists sha256:1111111111111111111111111111111111111111111111111111111111111111, which the plugin never wrote to the store"),
        ("wrong-size", "blobs says \(Digest.of(Array("test content of the world layer".utf8))) has 32 bytes; the stored blob has 31"),
        ("unlisted", "the layer refers to sha256:1111111111111111111111111111111111111111111111111111111111111111, which is not listed in its blobs"),
    ])
    func failures(mode: String, message: String) throws {
        let setup = Setup()
        _ = try contentID(setup.snapshot())
        let before = setup.index
        let output = try setup.snapshot(["--set", "world.mode=\(mode)"])
        #expect(output.status == 2, "\(output)")
        #expect(output.stdout == "")
        #expect(output.stderr.contains("pfhost: error: plugin \(setup.plugins)/world.so (org.pfhost.test.plugin, world layer) failed: "), "\(output)")
        #expect(output.stderr.contains(message), "\(output)")
        #expect(setup.index == before)
    }

    @Test("a plugin that ignores the timeout fails the snapshot; nothing is committed")
    func hang() throws {
        let setup = Setup()
        _ = try contentID(setup.snapshot())
        let before = setup.index
        let clock = ContinuousClock()
        let start = clock.now
        let output = try setup.snapshot(["--set", "cache.mode=hang", "--timeout", "1"])
        let elapsed = clock.now - start
        #expect(output.status == 2, "\(output)")
        #expect(output.stderr.contains("plugin \(setup.plugins)/cache.so (org.pfhost.test.plugin, cache layer) did not finish within the 1s timeout and ignored cancellation; nothing was committed"), "\(output)")
        #expect(elapsed < .seconds(15))
        #expect(setup.index == before)
    }

    @Test("a plugin that honours cancellation stops at the deadline")
    func cooperativeHang() throws {
        let setup = Setup()
        let output = try setup.snapshot(["--set", "effects.mode=cooperative-hang", "--timeout", "1"])
        #expect(output.status == 2, "\(output)")
        #expect(output.stderr.contains("(org.pfhost.test.plugin, effects layer) failed: capture returned PF_ERR_CANCELLED: stopped on cancellation"), "\(output)")
        #expect(!FileManager.default.fileExists(atPath: setup.store + "/index.json") || setup.index == Array(#"{"annotations":{"dev.pfhost.store.format":"2"},"manifests":[],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2}"#.utf8))
    }

    @Test("a plugin that crashes kills the host but leaves the store valid and unchanged")
    func crash() throws {
        let setup = Setup()
        _ = try contentID(setup.snapshot())
        let before = setup.index
        let output = try setup.snapshot(["--set", "trace.mode=segv"])
        #expect(output.signalled && output.status == SIGSEGV, "\(output)")
        #expect(setup.index == before)
        let verify = try pfhost("verify", "--all", "--store", setup.store)
        #expect(verify.status == 0, "\(verify)")
    }

    @Test("the five captures run at the same time")
    func parallel() throws {
        let setup = Setup()
        let barrier = setup.dir.directory("barrier")
        let settings = LayerKind.allCases.flatMap { ["--set", "\($0).mode=barrier", "--set", "\($0).barrier_dir=\(barrier)"] }
        _ = try contentID(setup.snapshot(settings))
        #expect(try FileManager.default.contentsOfDirectory(atPath: barrier).sorted() == ["cache", "effects", "model", "trace", "world"])
    }

    @Test("a plugin's capture starts as soon as it is loaded, while the plugins after it load")
    func capturesOverlapLoading() throws {
        // world.so loads last (the directory is read in name order); loading it waits for the
        // barrier mark the cache capture leaves when it starts, and says whether it came.
        let build = TemporaryDirectory()
        let barrier = build.directory("barrier")
        let world = try PluginBuilder.build(kind: .world, defines: [#"PF_TEST_LOAD_WAITS_FOR="\#(barrier)/cache""#],
                                            into: build.path, name: "world.so")
        let setup = Setup(replacing: [.world: world])
        let settings = LayerKind.allCases.flatMap { ["--set", "\($0).mode=barrier", "--set", "\($0).barrier_dir=\(barrier)"] }
        _ = try contentID(setup.snapshot(settings))
        #expect(String(decoding: FileManager.default.contents(atPath: barrier + "/cache.result") ?? Data(), as: UTF8.self) == "seen")
    }

    @Test("a plugin refused after earlier captures started stops them: nothing is committed or left behind")
    func refusalStopsStartedCaptures() throws {
        let build = TemporaryDirectory()
        let refused = try PluginBuilder.build(kind: .world, defines: ["TEST_ABI_MAJOR=2"], into: build.path, name: "world.so")
        let setup = Setup(replacing: [.world: refused])
        let clock = ContinuousClock()
        let started = clock.now
        // The cache capture runs until it is cancelled: only the stop ends it before the timeout.
        let output = try setup.snapshot(["--set", "cache.mode=cooperative-hang", "--timeout", "120"])
        #expect(clock.now - started < .seconds(60), "the refusal waited for the timeout: \(output)")
        #expect(output.status == 2, "\(output)")
        #expect(output.stderr.contains("world.so") && output.stderr.contains("built for plugin ABI 2."), "\(output)")
        #expect(!output.stderr.contains("cancelled"), "the stopped capture is not what failed: \(output)")
        let snapshots = try pfhost("list", "--store", setup.store)
        #expect(snapshots.status != 0 || snapshots.stdout.isEmpty, "\(snapshots)")
        let ingest = (try? FileManager.default.contentsOfDirectory(atPath: setup.store + "/ingest")) ?? []
        #expect(!ingest.contains { $0.hasSuffix(".tmp") }, "\(ingest)")
    }

    @Test("a plugin whose constructor calls exit() while captures run is named, exit 2, nothing committed")
    func exitWhileLoading() throws {
        let build = TemporaryDirectory()
        let world = try PluginBuilder.build(kind: .world, defines: ["TEST_EXIT_AT_LOAD"], into: build.path, name: "world.so")
        let setup = Setup(replacing: [.world: world])
        let output = try setup.snapshot(["--set", "cache.mode=cooperative-hang"])
        #expect(output.status == 2, "\(output)")
        #expect(output.stderr == "pfhost: error: plugin \(setup.plugins)/world.so called exit() while it was being loaded (in a constructor, its own or a library's, or in its entry point); nothing was committed\n", "\(output)")
        #expect(!FileManager.default.fileExists(atPath: setup.store + "/index.json") || setup.index == Array(#"{"annotations":{"dev.pfhost.store.format":"2"},"manifests":[],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2}"#.utf8))
        // Without a capture in flight, too: exit(0) would otherwise end `pfhost plugins` as a success.
        let listing = try pfhost("plugins", "--plugins", setup.plugins)
        #expect(listing.status == 2 && listing.stderr.hasSuffix("world.so called exit() while it was being loaded (in a constructor, its own or a library's, or in its entry point)\n"), "\(listing)")
    }

    @Test("a plugin that closes stdout while it loads gets exit 74; the id never lands in the file that took descriptor 1")
    func stdoutClosedWhileLoading() throws {
        let build = TemporaryDirectory()
        let marker = build.file("marker")
        let world = try PluginBuilder.build(kind: .world, defines: ["TEST_CLOSE_STDOUT_AT_LOAD", #"PF_TEST_CONSTRUCTOR_MARKER="\#(marker)""#],
                                            into: build.path, name: "world.so")
        let setup = Setup(replacing: [.world: world])
        let output = try setup.snapshot()
        #expect(output.status == 74, "\(output)")
        #expect(output.stderr.contains("descriptor 1 is no longer the stdout pfhost started with") && output.stderr.hasSuffix("; the snapshot is committed: see 'pfhost log'\n"), "\(output)")
        #expect(FileManager.default.contents(atPath: marker + ".stdout") == Data(), "the content id went into the plugin's file")
    }

    @Test("a plugin whose loading outlasts --timeout is named, exit 2, while an earlier capture runs; so in a restore")
    func loadingOutlastsTimeout() throws {
        let build = TemporaryDirectory()
        // Its constructor waits (20 s at most) for a file nobody makes.
        let world = try PluginBuilder.build(kind: .world, defines: [#"PF_TEST_LOAD_WAITS_FOR="\#(build.path)/never""#],
                                            into: build.path, name: "world.so")
        let setup = Setup(replacing: [.world: world])
        let clock = ContinuousClock()
        let started = clock.now
        let output = try setup.snapshot(["--set", "cache.mode=cooperative-hang", "--timeout", "1"])
        #expect(clock.now - started < .seconds(15), "it waited for the constructor: \(output)")
        #expect(output.status == 2, "\(output)")
        #expect(output.stderr == "pfhost: error: plugin \(setup.plugins)/world.so did not finish loading within the 1s timeout (a constructor, its own or a library's, or its entry point did not return; or a thread a plugin loaded before it started holds the dynamic loader); nothing was committed\n", "\(output)")
        // The blobs the finished captures wrote went with the snapshot.
        let ingest = (try? FileManager.default.contentsOfDirectory(atPath: setup.store + "/ingest")) ?? []
        #expect(!ingest.contains { $0.hasSuffix(".tmp") }, "\(ingest)")
        // A restore with that plugin, the same: the target is never made.
        let standard = Setup()
        _ = try contentID(standard.snapshot(["--tag", "agent"]))
        let target = build.file("restored")
        let restore = try run(productsDirectory + "/pfhost", ["restore", "agent", "--plugins", setup.plugins, "--store", standard.store,
                                                             "--to", target, "--timeout", "1"])
        #expect(restore.status == 2 && restore.stderr.contains("world.so did not finish loading within the 1s timeout")
                && restore.stderr.hasSuffix("; nothing was restored\n"), "\(restore)")
        #expect(!FileManager.default.fileExists(atPath: target))
    }

    @Test("--timeout bounds each plugin's loading, not their sum: in process as with --isolate")
    func loadTimeoutIsPerPlugin() throws {
        let build = TemporaryDirectory()
        // Each loads for 1.3 s: together longer than the 2 s timeout, each well within it.
        let world = try PluginBuilder.build(kind: .world, defines: ["PF_TEST_LOAD_SLEEP_MS=1300"], into: build.path, name: "world.so")
        let trace = try PluginBuilder.build(kind: .trace, defines: ["PF_TEST_LOAD_SLEEP_MS=1300"], into: build.path, name: "trace.so")
        let setup = Setup(replacing: [.world: world, .trace: trace])
        for isolate in [[], ["--isolate"]] {
            let output = try setup.snapshot(["--timeout", "2"] + isolate)
            #expect(output.status == 0, "\(isolate): \(output)")
        }
    }

    @Test("a plugin's thread left inside dlopen for ever does not keep pfhost from ending once the snapshot is done, or failed to print")
    func loaderHeldAtExit() throws {
        let build = TemporaryDirectory()
        let marker = build.file("entered")
        let library = try PluginBuilder.build(kind: .model, defines: [#"PF_TEST_HANG_AT_LOAD_MARKER="\#(marker)""#],
                                              into: build.path, name: "hang.so")
        for full in [false, true] {
            // A store of its own each time: the world plugin loads last (no load-order hint), so the
            // thread its capture leaves inside dlopen holds the loader only once every plugin is loaded.
            let setup = Setup()
            try? FileManager.default.removeItem(atPath: marker)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: productsDirectory + "/pfhost")
            process.arguments = ["snapshot", "--plugins", setup.plugins, "--store", setup.store, "--set", "world.mode=dlopen-hang",
                                 "--set", "world.library=\(library)", "--set", "world.marker=\(marker)"]
            let out = Pipe()
            // A full disk: the error path must end as promptly as the success path.
            process.standardOutput = full ? FileHandle(forWritingAtPath: "/dev/full") : out
            process.standardError = FileHandle.nullDevice
            try process.run()
            // exit() would wait for the loader's lock in the libraries' destructors: for ever.
            let deadline = Date().addingTimeInterval(30)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                Issue.record("pfhost did not end within 30 s of a snapshot whose plugin left a thread inside dlopen (stdout full: \(full))")
                continue
            }
            #expect(process.terminationStatus == (full ? 74 : 0), "stdout full: \(full)")
            if !full {
                let id = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                #expect(id.hasPrefix("sha256:") && id.hasSuffix("\n"), "\(id)")
            }
        }
    }

    @Test("a configuration section refused while captures run stops them, and names the first kind")
    func sectionRefusalStopsCaptures() throws {
        let build = TemporaryDirectory()
        let world = try PluginBuilder.build(kind: .world, defines: ["TEST_SETTINGS"], into: build.path, name: "world.so")
        let trace = try PluginBuilder.build(kind: .trace, defines: ["TEST_SETTINGS"], into: build.path, name: "trace.so")
        // trace.so loads before world.so: its refusal comes first, yet world's is the one named.
        let setup = Setup(replacing: [.world: world, .trace: trace])
        let output = try setup.snapshot(["--set", "cache.mode=cooperative-hang", "--set", "world.no_such_setting=1",
                                         "--set", "trace.no_such_setting=1", "--timeout", "120"])
        #expect(output.status == 78, "\(output)")
        #expect(output.stderr.contains("world.no_such_setting is not a setting of plugin") && !output.stderr.contains("cancelled"), "\(output)")
    }

    @Test("--tag chains snapshots; plugins see the parent layer and can reuse its blobs")
    func chain() throws {
        let setup = Setup()
        let first = try contentID(setup.snapshot(["--tag", "agent"]))
        let blobs = setup.blobCount
        let reuse = LayerKind.allCases.flatMap { ["--set", "\($0).mode=reuse-parent"] }
        let handedBack = try setup.snapshot(["--tag", "agent", "--verbose"] + reuse)
        let second = try contentID(handedBack)
        // The parent's bytes handed back as given (stamp and all) are the parent's layer: every one
        // is stored as the parent's config.
        #expect(handedBack.stderr.contains("unchanged, stored as the parent's: the model, cache, world, effects, trace layer configs"), "\(handedBack)")
        let store = try SnapshotStore(opening: setup.store)
        let manifest = try store.snapshot(second).manifest
        #expect(manifest.parents == [first])
        #expect(manifest.world.blobs == (try store.snapshot(first).manifest.world.blobs))
        // Only the new snapshot index was written: every layer's documents are the parent's.
        #expect(setup.blobCount == blobs + 1)
        let log = try pfhost("log", "agent", "--store", setup.store)
        let lines = log.stdout.split(separator: "\n")
        #expect(lines.count == 2, "\(log)")
        #expect(lines.first?.hasPrefix(String(second.hex.prefix(12))) == true && lines.first?.contains("(agent)") == true)
        #expect(lines.last?.hasPrefix(String(first.hex.prefix(12))) == true)
        // An explicit parent wins over the tag's snapshot; a root has no parent layer.
        let third = try contentID(setup.snapshot(["--parent", String(first.hex.prefix(12)), "--tag", "agent"]))
        #expect(try store.snapshot(third).manifest.parents == [first])
        let orphan = try setup.snapshot(["--tag", "fresh", "--set", "model.mode=reuse-parent"])
        #expect(orphan.status == 2 && orphan.stderr.contains("capture returned PF_ERR_INVALID: no parent layer"), "\(orphan)")
    }

    @Test("two processes snapshotting into one store both land")
    func twoProcesses() throws {
        let setup = Setup()
        _ = try contentID(setup.snapshot())
        let results = Mutex<[Int: ProcessOutput]>([:])
        DispatchQueue.concurrentPerform(iterations: 4) { i in
            let output = try? setup.snapshot(["--set", "trace.content=process \(i)", "--tag", i % 2 == 0 ? "even" : "t\(i)"])
            results.withLock { $0[i] = output }
        }
        let ids = try (0..<4).map { i in try contentID(#require(results.withLock { $0[i] })) }
        let history = try SnapshotStore(opening: setup.store).history().map(\.id)
        #expect(Set(ids).isSubset(of: Set(history)))
        #expect(Set(history).count == 5)
        let verify = try pfhost("verify", "--all", "--store", setup.store)
        #expect(verify.status == 0, "\(verify)")
    }

    @Test("config file paths resolve against the file; --set and flags override it")
    func configuration() throws {
        let setup = Setup()
        let configDir = setup.dir.directory("agent")
        _ = FileManager.default.createFile(atPath: configDir + "/input.bin", contents: Data("from the config dir".utf8))
        let config = """
            {"agent": {"kind": "coder", "version": "2.0.0", "fingerprint": "fp-1"},
             "world": {"mode": "file", "path": "input.bin"}, "trace": {"content": "from file"}}
            """
        _ = FileManager.default.createFile(atPath: configDir + "/pfhost.json", contents: Data(config.utf8))
        let output = try run(productsDirectory + "/pfhost",
                             ["snapshot", "--plugins", setup.plugins, "--store", setup.store, "--config", "agent/pfhost.json",
                              "--set", "trace.content=from set", "--agent-version", "2.1.0"],
                             currentDirectory: setup.dir.path)
        let id = try contentID(output)
        let manifest = try SnapshotStore(opening: setup.store).snapshot(id).manifest
        #expect(manifest.agent == Agent(kind: "coder", version: "2.1.0", fingerprint: "fp-1"))
        #expect(manifest.world.blobs.first?.size == Int64("from the config dir".utf8.count))
        #expect(manifest.trace.blobs.first?.size == Int64("from set".utf8.count))
    }

    @Test("bad configuration is refused before any capture", arguments: [
        (#"{"wrld": {}}"#, [], "unknown section 'wrld' (sections: agent, model, cache, world, effects, trace)"),
        (#"{"world": {"root": [1]}}"#, [], "world.root must be a string, number, boolean or array of strings"),
        ("{", [], "invalid JSON at byte 1: unexpected end of input in an object"),
        ("{}", ["--set", "world"], "--set 'world' is not KIND.KEY=VALUE (e.g. world.root=./workspace)"),
        ("{}", ["--set", "brain.x=1"], "--set 'brain.x=1': unknown layer 'brain'"),
    ])
    func badConfiguration(config: String, extra: [String], message: String) throws {
        let setup = Setup()
        _ = FileManager.default.createFile(atPath: setup.dir.file("c.json"), contents: Data(config.utf8))
        let output = try setup.snapshot(["--config", setup.dir.file("c.json")] + extra)
        #expect(output.status == 78, "\(output)")
        #expect(output.stderr.contains(message), "\(output)")
        #expect(!FileManager.default.fileExists(atPath: setup.store))
    }

    @Test("a broken plugin directory is refused, naming the file; a missing one too")
    func brokenDirectory() throws {
        let setup = Setup()
        _ = FileManager.default.createFile(atPath: setup.plugins + "/x.so", contents: Data("garbage".utf8))
        let output = try setup.snapshot()
        #expect(output.status == 2)
        #expect(output.stderr.hasPrefix("pfhost: error: \(setup.plugins)/x.so: cannot be loaded: "), "\(output)")
        let missing = try pfhost("snapshot", "--plugins", "/nonexistent", "--store", setup.store)
        #expect(missing.status == 2 && missing.stderr.contains("cannot read the plugin directory /nonexistent"), "\(missing)")
        let none = try pfhost("snapshot", "--store", setup.store)
        #expect(none.status == 64 && none.stderr.contains("no plugin directory: pass --plugins DIR or set PFHOST_PLUGINS"), "\(none)")
    }
}
