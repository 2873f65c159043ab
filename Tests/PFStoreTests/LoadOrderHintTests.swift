import Foundation
import Synchronization
import Testing
import PFSystem
import PFTestSupport
@testable import PFStore

/// `ingest/load-first.v1`: read only when it is one plugin file name in a regular file, written
/// through a temporary file, and never opened when it is anything else.
@Suite("Load-order hint")
struct LoadOrderHintTests {
    /// Records every call on the hint's path.
    final class Calls: Sendable {
        let calls = Mutex<[SystemCalls.Operation]>([])
        var hook: SystemCalls.FaultHook {
            { [self] operation, path in
                if path.hasSuffix("/load-first.v1") { calls.withLock { $0.append(operation) } }
                return nil
            }
        }
        var operations: [SystemCalls.Operation] { calls.withLock { $0 } }
    }

    private func store(_ dir: TemporaryDirectory, _ calls: Calls = Calls()) throws -> SnapshotStore {
        try SnapshotStore.openOrCreate(at: dir.file("store"), durability: .batch, system: SystemCalls(faultHook: calls.hook))
    }

    @Test("a name written is the name read; a symlink in its place is replaced, its target untouched")
    func roundTrip() throws {
        let dir = TemporaryDirectory()
        let store = try store(dir)
        #expect(store.pluginToLoadFirst() == nil)
        store.rememberPluginToLoadFirst("libpf-world.so")
        #expect(store.pluginToLoadFirst() == "libpf-world.so")
        let outside = dir.file("outside")
        try Data("keep.so\n".utf8).write(to: URL(fileURLWithPath: outside))
        try FileManager.default.removeItem(atPath: store.loadFirstPath)
        try FileManager.default.createSymbolicLink(atPath: store.loadFirstPath, withDestinationPath: outside)
        #expect(store.pluginToLoadFirst() == nil, "never read through a symlink")
        store.rememberPluginToLoadFirst("libpf-cache.so")
        #expect(store.pluginToLoadFirst() == "libpf-cache.so")
        #expect(try String(contentsOfFile: outside, encoding: .utf8) == "keep.so\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.file("store/ingest")).allSatisfy { !$0.hasSuffix(".tmp") })
    }

    @Test("names that cannot be a plugin file in a directory are neither written nor read",
          arguments: ["", ".so", "a/b.so", "../x.so", "x.so\nY.so", "x\0.so", "plugin", String(repeating: "p", count: 253) + ".so"])
    func notAName(_ name: String) throws {
        let dir = TemporaryDirectory()
        let store = try store(dir)
        store.rememberPluginToLoadFirst(name)
        #expect(!FileManager.default.fileExists(atPath: store.loadFirstPath))
        try Data((name + "\n").utf8).write(to: URL(fileURLWithPath: store.loadFirstPath))
        #expect(store.pluginToLoadFirst() == nil)
    }

    @Test("a FIFO, a directory, a symlink or a device in its place is not opened", arguments: ["fifo", "directory", "symlink", "device"])
    func neverOpened(_ kind: String) throws {
        let dir = TemporaryDirectory()
        let calls = Calls()
        let store = try store(dir, calls)
        let path = store.loadFirstPath
        switch kind {
        case "fifo": #expect(mkfifo(path, 0o644) == 0)
        case "directory": try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        case "symlink": try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/dev/zero")
        default:
            // Only root can make a device node.
            guard getuid() == 0 else { return }
            #expect(mknod(path, S_IFCHR | 0o644, dev_t((1 << 8) | 3)) == 0)
        }
        #expect(store.pluginToLoadFirst() == nil)
        #expect(!calls.operations.contains(.open), "\(calls.operations)")
    }
}
