import Foundation
import Testing
import PFModel
import PFStore
@testable import PFHost

@Suite("A plugin that crashes")
struct CrashTests {
    /// A store with one committed snapshot, in a directory named by the environment so the
    /// exit test's child process (which cannot capture values) finds the same one.
    @Test("SIGSEGV inside capture kills the host; the store stays valid and unchanged")
    func segfault() async throws {
        let dir = TemporaryDirectory()
        let plugins = PluginBuilder.directory(in: dir)
        let storePath = dir.file("store")
        let store = try SnapshotStore.openOrCreate(at: storePath)
        _ = try Snapshotter(store: store).snapshot(SnapshotRequest(pluginsDirectory: plugins))
        let before = try Data(contentsOf: URL(fileURLWithPath: storePath + "/index.json"))
        setenv("PFHOST_CRASH_TEST_DIR", dir.path, 1)
        defer { unsetenv("PFHOST_CRASH_TEST_DIR") }

        await #expect(processExitsWith: .signal(SIGSEGV)) {
            let dir = ProcessInfo.processInfo.environment["PFHOST_CRASH_TEST_DIR"]!
            let store = try SnapshotStore(opening: dir + "/store")
            var configuration = SnapshotConfiguration()
            try configuration.apply(setting: "trace.mode=segv")
            _ = try Snapshotter(store: store).snapshot(
                SnapshotRequest(pluginsDirectory: dir + "/plugins", configuration: configuration))
        }

        #expect(try Data(contentsOf: URL(fileURLWithPath: storePath + "/index.json")) == before)
        var verifier = StoreVerifier(store: try SnapshotStore(opening: storePath))
        #expect(verifier.verify(snapshots: nil, everyBlob: true) == [])
    }
}
