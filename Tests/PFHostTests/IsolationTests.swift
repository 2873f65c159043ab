import Foundation
import Testing
import PFModel
import PFStore

/// `pfhost snapshot --isolate`: each plugin in a capture process of its own, so that whatever a
/// plugin does to its process ends in exit status 2 naming it, with nothing committed and no
/// temporary file left behind.
@Suite("pfhost snapshot --isolate")
struct IsolationTests {
    typealias Setup = SnapshotCommandTests.Setup
    typealias Agent = ReferencePluginTests.Agent

    /// The blob files being written that a process left in the store's `ingest/`.
    static func temporaryBlobs(_ store: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: store + "/ingest").filter { $0.hasPrefix("blob-") && $0.hasSuffix(".tmp") }
    }

    @Test("a plugin that crashes, exits or scribbles over its memory fails the snapshot: exit 2, named, nothing committed, ingest/ clean",
          arguments: [
              ("segv", "crashed: its capture process was killed by SIGSEGV"),
              ("exit", "called exit() during capture; its capture process exited with status 2"),
              // Garbage over its stack kills it one way or another (a fault, a smashed canary).
              ("scribble", "crashed: its capture process was killed by SIG"),
          ])
    func misbehaviour(mode: String, message: String) throws {
        let setup = Setup()
        _ = try setup.snapshot()
        let before = setup.index
        // Every plugin has a blob half written when the trace plugin misbehaves.
        let writers = LayerKind.allCases.flatMap { ["--set", "\($0).open_writer=1"] }
        let output = try setup.snapshot(["--isolate", "--set", "trace.mode=\(mode)"] + writers)
        #expect(output.status == 2 && !output.signalled, "\(output)")
        #expect(output.stdout == "")
        let first = "pfhost: error: plugin \(setup.plugins)/trace.so (org.pfhost.test.plugin, trace layer) failed: \(message)"
        #expect(output.stderr.hasPrefix(first), "\(output)")
        #expect(setup.index == before)
        #expect(try Self.temporaryBlobs(setup.store) == [])
        let verify = try pfhost("verify", "--all", "--store", setup.store)
        #expect(verify.status == 0, "\(verify)")
    }

    @Test("a plugin that hangs past --timeout is killed after the grace period; pfhost reports it and exits 2")
    func hang() throws {
        let setup = Setup()
        _ = try setup.snapshot()
        let before = setup.index
        let clock = ContinuousClock()
        let start = clock.now
        let output = try setup.snapshot(["--isolate", "--set", "cache.mode=hang", "--set", "cache.open_writer=1", "--timeout", "1"])
        let elapsed = clock.now - start
        #expect(output.status == 2 && !output.signalled, "\(output)")
        #expect(output.stderr == "pfhost: error: plugin \(setup.plugins)/cache.so (org.pfhost.test.plugin, cache layer) failed: "
            + "did not finish within the 1s timeout and ignored cancellation for 2s; its process was killed with SIGKILL\n", "\(output)")
        #expect(elapsed < .seconds(10), "took \(elapsed)")
        #expect(setup.index == before)
        #expect(try Self.temporaryBlobs(setup.store) == [])
    }

    @Test("a plugin that honours cancellation stops at the deadline, in its process as in pfhost's")
    func cooperativeHang() throws {
        let setup = Setup()
        let output = try setup.snapshot(["--isolate", "--set", "effects.mode=cooperative-hang", "--timeout", "1"])
        #expect(output.status == 2, "\(output)")
        #expect(output.stderr.contains("(org.pfhost.test.plugin, effects layer) failed: capture returned PF_ERR_CANCELLED: stopped on cancellation (cancelled at the 1s timeout)"),
                "\(output)")
    }

    @Test("the first failure cancels the other capture processes at once")
    func firstFailureCancels() throws {
        let setup = Setup()
        let clock = ContinuousClock()
        let start = clock.now
        let output = try setup.snapshot(["--isolate", "--set", "world.mode=fail", "--set", "effects.mode=cooperative-hang",
                                         "--set", "trace.mode=hang", "--timeout", "60"])
        let elapsed = clock.now - start
        #expect(output.status == 2, "\(output)")
        #expect(elapsed < .seconds(15), "took \(elapsed)")
        let world = "\(setup.plugins)/world.so (org.pfhost.test.plugin, world layer)"
        let lines = output.stderr.split(separator: "\n").map(String.init)
        #expect(lines.first == "pfhost: error: plugin \(world) failed: capture returned PF_ERR_IO: simulated failure: the input could not be read",
                "\(output)")
        #expect(lines.contains("pfhost: error: plugin \(setup.plugins)/effects.so (org.pfhost.test.plugin, effects layer) failed: "
            + "capture returned PF_ERR_CANCELLED: stopped on cancellation (cancelled because plugin \(world) failed)"), "\(output)")
        #expect(lines.contains("pfhost: error: plugin \(setup.plugins)/trace.so (org.pfhost.test.plugin, trace layer) failed: "
            + "ignored cancellation for 2s after plugin \(world) failed; its process was killed with SIGKILL"), "\(output)")
    }

    @Test("a failing plugin reads the same in its process as in pfhost's", arguments: ["fail", "no-layer", "twice", "ghost", "wrong-kind"])
    func sameMessages(mode: String) throws {
        let setup = Setup()
        let inProcess = try setup.snapshot(["--set", "world.mode=\(mode)"])
        let isolated = try setup.snapshot(["--isolate", "--set", "world.mode=\(mode)"])
        #expect(inProcess.status == 2 && isolated.status == 2)
        // The first line: which other captures it cancelled before they finished is a race.
        #expect(isolated.stderr.split(separator: "\n").first == inProcess.stderr.split(separator: "\n").first,
                "in process: \(inProcess)\nisolated: \(isolated)")
    }

    @Test("a refused plugin reads the same in its process as in pfhost's")
    func sameRefusals() throws {
        let dir = TemporaryDirectory()
        defer { withExtendedLifetime(dir) {} }
        let bad = try PluginBuilder.build(kind: .world, defines: ["TEST_ABI_MAJOR=2"], into: dir.path, name: "world.so")
        let setup = Setup(replacing: [.world: bad])
        let inProcess = try setup.snapshot()
        let isolated = try setup.snapshot(["--isolate"])
        #expect(inProcess.status == 2 && isolated.status == 2)
        #expect(isolated.stderr == inProcess.stderr, "in process: \(inProcess)\nisolated: \(isolated)")
        #expect(isolated.stderr.contains("built for plugin ABI 2.1"), "\(isolated)")
    }

    @Test("the reference plugins capture the same layers in their processes: same ids, same blobs, parents reused")
    func sameSnapshots() throws {
        let agent = try Agent()
        let environment = ["SOURCE_DATE_EPOCH": "1800000000"]
        var ids: [[String]] = []
        for (store, extra) in [(agent.dir.file("in-process"), [String]()), (agent.dir.file("isolated"), ["--isolate"])] {
            var chain: [String] = []
            for _ in 0..<2 {
                let output = try run(productsDirectory + "/pfhost",
                                     ["snapshot", "--plugins", agent.plugins, "--store", store, "--config", agent.root + "/pfhost.json",
                                      "--tag", "agent"] + extra, environment: environment)
                #expect(output.status == 0 && output.stderr == "", "\(output)")
                chain.append(output.stdout)
            }
            ids.append(chain)
        }
        #expect(ids[0] == ids[1])
        let one = try SnapshotStore(opening: agent.dir.file("in-process")), two = try SnapshotStore(opening: agent.dir.file("isolated"))
        let id = try Digest(parsing: ids[0][1].trimmingCharacters(in: .newlines))
        #expect(try one.snapshot(id).manifest.layerSummaries.map(\.blobs) == two.snapshot(id).manifest.layerSummaries.map(\.blobs))
        var verifier = StoreVerifier(store: two)
        #expect(verifier.verify(snapshots: nil, everyBlob: true) == [])
        #expect(try Self.temporaryBlobs(agent.dir.file("isolated")) == [])
    }

    @Test("--json, logs and progress come through from the capture processes")
    func reports() throws {
        let setup = Setup()
        let json = try setup.snapshot(["--isolate", "--json"])
        #expect(json.status == 0, "\(json)")
        let value = try JSONParser.parse(Array(json.stdout.utf8.dropLast()))
        #expect(value["layers"]?["world"]?["blobs"] == .int(1))
        let verbose = try setup.snapshot(["--isolate", "--verbose"])
        #expect(verbose.status == 0, "\(verbose)")
        // The test plugin logs "capturing" at debug level through the host.
        #expect(verbose.stderr.components(separatedBy: "capturing").count == 6, "\(verbose)")
        let quiet = try setup.snapshot(["--isolate"])
        #expect(quiet.stderr == "", "\(quiet)")
        // Progress, on a terminal.
        let out = setup.dir.file("stdout"), log = setup.dir.file("terminal")
        let command = "\(productsDirectory)/pfhost snapshot --isolate --plugins \(setup.plugins) --store \(setup.store) > \(out)"
        let result = try run("/usr/bin/script", ["-q", "-e", "-c", command, log])
        #expect(result.status == 0, "\(result)")
        #expect(try String(contentsOfFile: log, encoding: .utf8).contains("100%"))
    }

    @Test("capture-plugin is hidden from help")
    func hidden() throws {
        let help = try pfhost("--help")
        #expect(help.status == 0 && !help.stdout.contains("capture-plugin"), "\(help)")
        #expect(try pfhost("snapshot", "--help").stdout.contains("--isolate"))
    }
}
