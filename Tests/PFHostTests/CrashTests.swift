import Foundation
import Testing
import PFModel
import PFStore
@testable import PFHost

@Suite("A plugin that crashes")
struct CrashTests {
    /// A store with one committed snapshot, whose directory the exit test's child process is
    /// given as a captured value.
    @Test("SIGSEGV inside capture kills the host; the store stays valid and unchanged")
    func segfault() async throws {
        let dir = TemporaryDirectory()
        let plugins = PluginBuilder.directory(in: dir)
        let storePath = dir.file("store")
        let store = try SnapshotStore.openOrCreate(at: storePath)
        _ = try Snapshotter(store: store).snapshot(SnapshotRequest(pluginsDirectory: plugins))
        let before = try Data(contentsOf: URL(fileURLWithPath: storePath + "/index.json"))
        // The directory goes to the child as a captured value: an environment variable set here
        // would also reach the pfhost processes other tests run meanwhile, and their world layers
        // (which record the environment) would differ from one snapshot to the next.
        await #expect(processExitsWith: .signal(SIGSEGV)) { [dir = dir.path as String] in
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
