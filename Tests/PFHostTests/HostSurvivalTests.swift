import Foundation
import Testing
import PFModel
import PFStore
@testable import PFHost

/// The host outlives what plugins do wrong: a failure cancels the other captures at once, a
/// thread left running after capture returned gets errors rather than freed memory, and
/// `exit()` during a capture is reported as the plugin's failure (issue 10).
@Suite("A host that nothing crashes")
struct HostSurvivalTests {
    typealias Setup = SnapshotCommandTests.Setup

    /// What `late_calls` in test_plugin.c writes when every call is refused.
    static let allRefused = "put_blob=-1 put_file=-1 blob_open=-1 blob_write=-1 blob_commit=-1 config=null parent=null len=0 "
        + "set_layer=-1 cancelled=-1 made_up=-1 heap=-1 writer_as_ctx=-1 heap_writer=-1\n"

    @Test("the first failure cancels the other captures: the snapshot fails at once, naming it first")
    func firstFailureCancels() throws {
        let setup = Setup()
        _ = try setup.snapshot()
        let before = setup.index
        let clock = ContinuousClock()
        let start = clock.now
        // The world capture fails at once; effects and trace wait for cancellation, which the
        // 60 s timeout would bring only after a minute.
        let output = try setup.snapshot(["--set", "world.mode=fail", "--set", "effects.mode=cooperative-hang",
                                         "--set", "trace.mode=cooperative-hang", "--timeout", "60"])
        let elapsed = clock.now - start
        #expect(output.status == 2, "\(output)")
        #expect(elapsed < .seconds(10), "took \(elapsed)")
        let world = "\(setup.plugins)/world.so (org.pfhost.test.plugin, world layer)"
        let lines = output.stderr.split(separator: "\n").map(String.init)
        #expect(lines.first == "pfhost: error: plugin \(world) failed: capture returned PF_ERR_IO: simulated failure: the input could not be read",
                "\(output)")
        // Model and cache may or may not have finished before the cancellation reached them.
        #expect(lines.dropFirst().allSatisfy { $0.hasSuffix("(cancelled because plugin \(world) failed)") }, "\(output)")
        for kind in ["effects", "trace"] {
            #expect(lines.contains("pfhost: error: plugin \(setup.plugins)/\(kind).so (org.pfhost.test.plugin, \(kind) layer) failed: "
                + "capture returned PF_ERR_CANCELLED: stopped on cancellation (cancelled because plugin \(world) failed)"), "\(output)")
        }
        #expect(setup.index == before)
    }

    @Test("a capture cancelled by the timeout is marked so")
    func deadlineMark() throws {
        let setup = Setup()
        let output = try setup.snapshot(["--set", "effects.mode=cooperative-hang", "--timeout", "1"])
        #expect(output.status == 2, "\(output)")
        #expect(output.stderr.contains("failed: capture returned PF_ERR_CANCELLED: stopped on cancellation (cancelled at the 1s timeout)"), "\(output)")
    }

    @Test("calls through a pf_ctx whose capture returned are refused, and the host goes on (Snapshotter API)")
    func lateCallsInProcess() throws {
        let dir = TemporaryDirectory()
        let plugins = PluginBuilder.directory(in: dir)
        let store = try SnapshotStore.openOrCreate(at: dir.file("store"))
        let file = dir.file("late.txt")
        var configuration = SnapshotConfiguration()
        for setting in ["world.mode=late", "world.late_file=\(file)", "world.late_ms=100"] { try configuration.apply(setting: setting) }
        let first = try Snapshotter(store: store).snapshot(SnapshotRequest(pluginsDirectory: plugins, configuration: configuration))
        // The context, its strings and its writer are gone by now; keep the host busy with more
        // snapshots until the thread has made its calls.
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(30)
        var more = 0
        while !FileManager.default.fileExists(atPath: file), clock.now < deadline {
            _ = try Snapshotter(store: store).snapshot(SnapshotRequest(pluginsDirectory: plugins))
            more += 1
        }
        #expect(try String(contentsOfFile: file, encoding: .utf8) == Self.allRefused)
        #expect(first.manifest.world.blobs.count == 1)
        var verifier = StoreVerifier(store: store)
        #expect(verifier.verify(snapshots: nil, everyBlob: false) == [])
    }

    @Test("late calls during a snapshot are refused with a warning naming the plugin; the snapshot lands")
    func lateCallsCommand() throws {
        let setup = Setup()
        let file = setup.dir.file("late.txt")
        // The trace capture takes a second, so the world plugin's thread calls while pfhost waits.
        let output = try setup.snapshot(["--set", "world.mode=late", "--set", "world.late_file=\(file)", "--set", "world.late_ms=50",
                                         "--set", "trace.delay_ms=1000"])
        #expect(output.status == 0, "\(output)")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == Self.allRefused)
        let world = "\(setup.plugins)/world.so (org.pfhost.test.plugin, world layer)"
        #expect(output.stderr.contains("plugin \(world) called put_blob() with its pf_ctx after its capture had returned"), "\(output)")
        #expect(output.stderr.contains("plugin \(world) called blob_write() with a pf_blob_writer already committed or aborted"), "\(output)")
        #expect(output.stderr.contains("which is not a pf_ctx the host handed out"), "\(output)")
        #expect(output.stderr.contains("which is not a pf_blob_writer the host handed out"), "\(output)")
        // One warning per stale handle, not one per call.
        #expect(output.stderr.components(separatedBy: "with its pf_ctx after its capture had returned").count == 2, "\(output)")
    }

    @Test("exit() inside capture ends pfhost with status 2 and a message naming the plugin; nothing is committed")
    func exitDuringCapture() throws {
        let setup = Setup()
        _ = try setup.snapshot()
        let before = setup.index
        let output = try setup.snapshot(["--set", "cache.mode=exit"])
        #expect(output.status == 2 && !output.signalled, "\(output)")
        #expect(output.stdout == "")
        #expect(output.stderr == "pfhost: error: plugin \(setup.plugins)/cache.so (org.pfhost.test.plugin, cache layer) called exit() during capture; nothing was committed\n",
                "\(output)")
        #expect(setup.index == before)
    }
}
