import CPFPluginABI
import Foundation
import Testing
import PFModel
import PFStore
@testable import PFHost

/// The ABI as a promise: plugins built against the frozen 1.0 header keep working, the 1.0 sizes
/// are numbers written down, and what 1.1 added does what the header says.
@Suite("Plugin ABI compatibility")
struct PluginABITests {
    /// A directory whose `pf_plugin.h` is the ABI 1.0 header as it was released
    /// (`Tests/Fixtures/pf_plugin_1_0.h`, never edited).
    static func frozenHeader(in dir: TemporaryDirectory) throws -> String {
        let include = dir.directory("include-1.0")
        try? FileManager.default.removeItem(atPath: include + "/pf_plugin.h")
        try FileManager.default.copyItem(atPath: repositoryRoot + "/Tests/Fixtures/pf_plugin_1_0.h", toPath: include + "/pf_plugin.h")
        return include
    }

    @Test("a plugin built against the frozen 1.0 header loads, is reported as ABI 1.0, captures, and is reported as unable to restore")
    func abi10Plugin() throws {
        let dir = TemporaryDirectory()
        let old = try PluginBuilder.build(kind: .world, header: try Self.frozenHeader(in: dir), into: dir.path, name: "world-1.0.so")
        let plugin = try PluginLoader.load(old)
        #expect(plugin.abiMajor == 1 && plugin.abiMinor == 0)
        // Its table has a restore function, but ABI 1.0 has no restore services: never called.
        #expect(!plugin.canRestore && plugin.restoreRefusal == "built for plugin ABI 1.0, which has no restore services (1.1 added them)")
        let setup = SnapshotCommandTests.Setup(replacing: [.world: old])
        let listed = try pfhost("plugins", "--plugins", setup.plugins, "--json")
        #expect(listed.status == 0 && listed.stdout.contains(#""abi":"1.0""#), "\(listed)")
        #expect(listed.stdout.contains(#""restore":"no: built for plugin ABI 1.0, which has no restore services (1.1 added them)""#), "\(listed)")
        let table = try pfhost("plugins", "--plugins", setup.plugins)
        #expect(table.stdout.contains("cannot restore: \(setup.plugins)/world.so built for plugin ABI 1.0"), "\(table)")
        let output = try setup.snapshot(["--set", "world.content=written by a 1.0 plugin"])
        #expect(output.status == 0, "\(output)")
        let id = try Digest(parsing: output.stdout.trimmingCharacters(in: .newlines))
        let store = try SnapshotStore(opening: setup.store)
        let world = try store.snapshot(id).manifest.world
        #expect(try store.readBlob(world.blobs[0].digest) == Array("written by a 1.0 plugin".utf8))

        let target = setup.dir.file("restored")
        func restore(_ extra: [String]) throws -> ProcessOutput {
            try run(productsDirectory + "/pfhost", ["restore", id.description, "--plugins", setup.plugins, "--store", setup.store, "--to", target] + extra)
        }
        let refused = try restore([])
        #expect(refused.status == 2, "\(refused)")
        #expect(refused.stderr.contains("plugin \(setup.plugins)/world.so (org.pfhost.test.plugin, world layer) cannot restore: built for plugin ABI 1.0, which has no restore services (1.1 added them); restore the other layers with --only"), "\(refused)")
        #expect(!FileManager.default.fileExists(atPath: target))
        let others = try restore(["--only", "model,cache,effects,trace"])
        #expect(others.status == 0, "\(others)")
    }

    @Test("the ABI 1.0 struct sizes are written-down numbers, equal to the frozen header's sizeof")
    func abi10Sizes() throws {
        let dir = TemporaryDirectory()
        let source = dir.file("sizes.c")
        try Data("""
            #include <stdio.h>
            #include "pf_plugin.h"
            int main(void) { printf("%zu %zu\\n", sizeof(pf_plugin), sizeof(pf_host)); return 0; }
            """.utf8).write(to: URL(fileURLWithPath: source))
        let current = dir.file("current.c")
        try Data("""
            #include <stdio.h>
            #include "pf_plugin.h"
            int main(void) { printf("%zu %zu\\n", PF_PLUGIN_SIZE_1_0, PF_HOST_SIZE_1_0); return 0; }
            """.utf8).write(to: URL(fileURLWithPath: current))
        let frozen = try run("/usr/bin/cc", ["-I", try Self.frozenHeader(in: dir), "-o", dir.file("sizes"), source])
        let macros = try run("/usr/bin/cc", ["-I", repositoryRoot + "/plugin-sdk/include", "-o", dir.file("current"), current])
        #expect(frozen.status == 0 && macros.status == 0, "\(frozen) \(macros)")
        let expected = "\(PluginABI.pluginTableSize10) \(PluginABI.hostTableSize10)\n"
        #expect(try run(dir.file("sizes"), []).stdout == expected)
        #expect(try run(dir.file("current"), []).stdout == expected)
        #expect(PluginABI.pluginTableSize10 == 56 && PluginABI.hostTableSize10 == 120)
    }

    @Test("the restore services are appended after put_fd, in the order the header gives, and nothing moved")
    func restoreServicesAppended() {
        let pointer = MemoryLayout<UnsafeRawPointer>.size
        #expect(MemoryLayout<pf_host>.offset(of: \pf_host.put_fd) == Int(PluginABI.hostTableSize10))
        let appended: [PartialKeyPath<pf_host>] = [\pf_host.open_blob, \pf_host.make_directory, \pf_host.create_file,
                                                   \pf_host.make_symlink, \pf_host.set_attributes, \pf_host.set_restored_config, \pf_host.report]
        for (number, field) in appended.enumerated() {
            #expect(MemoryLayout<pf_host>.offset(of: field) == Int(PluginABI.hostTableSize10) + (number + 1) * pointer)
        }
        // put_fd_range was appended after report.
        #expect(MemoryLayout<pf_host>.offset(of: \pf_host.put_fd_range) == Int(PluginABI.hostTableSize10) + 8 * pointer)
        #expect(MemoryLayout<pf_host>.size == Int(PluginABI.hostTableSize10) + 9 * pointer)
        // restore was in 1.0; 1.1 appended setting_size and setting_count (8 bytes), settings and build_identity.
        #expect(MemoryLayout<pf_plugin>.size == Int(PluginABI.pluginTableSize10) + 3 * pointer)
    }

    @Test("put_fd stores the size asked from the plugin's own descriptor, and says when that is not the file")
    func putFD() throws {
        let setup = SnapshotCommandTests.Setup()
        let file = setup.dir.file("data.bin")
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let store = { try SnapshotStore(opening: setup.store) }
        func capture(_ size: String) throws -> (stored: [UInt8], changed: String?) {
            let output = try setup.snapshot(["--set", "world.mode=fd", "--set", "world.path=\(file)", "--set", "world.size=\(size)"])
            #expect(output.status == 0, "\(output)")
            let id = try Digest(parsing: output.stdout.trimmingCharacters(in: .newlines))
            let world = try store().snapshot(id).manifest.world
            return (try store().readBlob(world.blobs[0].digest), world.annotations["changed"])
        }
        let whole = try capture("fstat")
        #expect(whole.stored == bytes && whole.changed == "no")
        let exact = try capture("200000")
        #expect(exact.stored == bytes && exact.changed == "no")
        let prefix = try capture("1000")
        #expect(prefix.stored == Array(bytes[0..<1000]) && prefix.changed == "yes")
        let beyond = try capture("300000")
        #expect(beyond.stored == bytes && beyond.changed == "yes")
    }

    @Test("put_fd_range stores the bytes from the offset asked, and says changed only when the file ends inside the range")
    func putFDRange() throws {
        let setup = SnapshotCommandTests.Setup()
        let file = setup.dir.file("data.bin")
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let store = { try SnapshotStore(opening: setup.store) }
        func capture(_ offset: Int, _ size: String) throws -> (stored: [UInt8], changed: String?) {
            let output = try setup.snapshot(["--set", "world.mode=range", "--set", "world.path=\(file)",
                                             "--set", "world.offset=\(offset)", "--set", "world.size=\(size)"])
            #expect(output.status == 0, "\(output)")
            let id = try Digest(parsing: output.stdout.trimmingCharacters(in: .newlines))
            let world = try store().snapshot(id).manifest.world
            return (try store().readBlob(world.blobs[0].digest), world.annotations["changed"])
        }
        let middle = try capture(4096, "65536")
        #expect(middle.stored == Array(bytes[4096..<(4096 + 65536)]) && middle.changed == "no")
        // Twice: the second may come from the stat cache, keyed by the range, and must be the same bytes.
        let other = try capture(8192, "65536")
        #expect(other.stored == Array(bytes[8192..<(8192 + 65536)]) && other.changed == "no")
        #expect(try capture(4096, "65536").stored == middle.stored)
        let rest = try capture(150_000, "fstat")
        #expect(rest.stored == Array(bytes[150_000...]) && rest.changed == "no")
        let pastEnd = try capture(190_000, "20000")
        #expect(pastEnd.stored == Array(bytes[190_000...]) && pastEnd.changed == "yes")
        let beyond = try capture(300_000, "10")
        #expect(beyond.stored.isEmpty && beyond.changed == "yes")
        let whole = try capture(0, "fstat")
        #expect(whole.stored == bytes && whole.changed == "no")
    }

    @Test("put_fd and put_fd_range stop reading a huge file when the capture is cancelled, answering PF_ERR_CANCELLED", arguments: ["fd", "range"])
    func putCancelled(mode: String) throws {
        let setup = SnapshotCommandTests.Setup()
        // 64 GiB of holes: read to the end, it would take minutes.
        let file = setup.dir.file("sparse.bin")
        #expect(FileManager.default.createFile(atPath: file, contents: nil))
        #expect(truncate(file, 64 << 30) == 0)
        let clock = ContinuousClock()
        let start = clock.now
        let output = try setup.snapshot(["--set", "world.mode=\(mode)", "--set", "world.path=\(file)", "--timeout", "1"])
        #expect(clock.now - start < .seconds(10), "\(output)")
        #expect(output.status == 2, "\(output)")
        #expect(output.stderr.contains("(org.pfhost.test.plugin, world layer) failed: capture returned PF_ERR_CANCELLED"), "\(output)")
        #expect(!output.stderr.contains("ignored cancellation"), "\(output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: setup.store + "/ingest").filter { $0.hasSuffix(".tmp") } == [])
    }

    @Test("put_fd_range refuses a bad descriptor, an offset or an end past INT64_MAX and a missing media type")
    func putFDRangeInvalid() throws {
        let setup = SnapshotCommandTests.Setup()
        let file = setup.dir.file("data.bin")
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let output = try setup.snapshot(["--set", "world.mode=range-invalid", "--set", "world.path=\(file)"])
        #expect(output.status == 2)
        #expect(output.stderr.contains("put_fd_range refused: fd -1, offset -1, end -1, media type -1"), "\(output)")
    }

    @Test("put_fd refuses a bad descriptor, a size past INT64_MAX and a missing media type")
    func putFDInvalid() throws {
        let setup = SnapshotCommandTests.Setup()
        let file = setup.dir.file("data.bin")
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let output = try setup.snapshot(["--set", "world.mode=fd-invalid", "--set", "world.path=\(file)"])
        #expect(output.status == 2)
        #expect(output.stderr.contains("put_fd refused: fd -1, size -1, media type -1"), "\(output)")
    }
}
