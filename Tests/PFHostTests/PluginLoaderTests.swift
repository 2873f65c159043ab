import Foundation
import Testing
import PFModel
@testable import PFHost

@Suite("Loading plugins")
struct PluginLoaderTests {
    @Test("a well-formed plugin loads with what its table declares")
    func loads() throws {
        let plugin = try PluginLoader.load(PluginBuilder.standard[.world]!)
        #expect(plugin.kind == .world)
        #expect(plugin.id == "org.pfhost.test.plugin")
        #expect(plugin.version == "1.0.0")
        #expect(plugin.description == "pfhost test plugin")
        #expect(plugin.abiMajor == 1 && plugin.abiMinor == 1)
    }

    @Test("each malformed plugin is refused with the file and the exact values", arguments: [
        (["TEST_ABI_MAJOR=2", "TEST_ABI_MINOR=3"], "built for plugin ABI 2.3, this host implements ABI 1.1 (the major version must match)"),
        (["TEST_ABI_MINOR=2"], "built for plugin ABI 1.2, newer than this host's ABI 1.1 (upgrade pfhost)"),
        (["TEST_STRUCT_SIZE=16"], "pf_plugin.struct_size is 16 bytes, smaller than ABI 1.0's 56"),
        (["TEST_KIND=9"], "declares unknown layer kind 9 (known: 1 model, 2 cache, 3 world, 4 effects, 5 trace)"),
        (["TEST_KIND=0"], "declares unknown layer kind 0 (known: 1 model, 2 cache, 3 world, 4 effects, 5 trace)"),
        (["TEST_NO_ID"], "pf_plugin.id is NULL or empty"),
        (["TEST_NO_VERSION"], "pf_plugin.version is NULL or empty"),
        (["TEST_NULL_ENTRY"], "pf_plugin_entry_v1 returned NULL"),
        (["TEST_NO_ENTRY"], "does not export pf_plugin_entry_v1 (build it against plugin-sdk/include/pf_plugin.h)"),
    ])
    func refusals(defines: [String], reason: String) throws {
        let dir = TemporaryDirectory()
        let file = try PluginBuilder.build(kind: .trace, defines: defines, into: dir.path, name: "bad.so")
        #expect {
            try PluginLoader.load(file)
        } throws: { error in
            (error as? PluginRefusal)?.description == "\(file): \(reason)"
        }
    }

    @Test("a file that is not ELF is refused with dlopen's words")
    func notELF() throws {
        let dir = TemporaryDirectory()
        _ = FileManager.default.createFile(atPath: dir.file("x.so"), contents: Data("not a library\n".utf8))
        #expect {
            try PluginLoader.load(dir.file("x.so"))
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("\(dir.file("x.so")): cannot be loaded: ") && text.contains("x.so")
        }
    }

    @Test("discovery: only *.so, sorted, each file once even through a symlink")
    func discovery() throws {
        let dir = TemporaryDirectory()
        let plugins = PluginBuilder.directory(in: dir)
        try FileManager.default.createSymbolicLink(atPath: plugins + "/zz-again.so", withDestinationPath: PluginBuilder.standard[.model]!)
        _ = FileManager.default.createFile(atPath: plugins + "/README.txt", contents: Data())
        _ = FileManager.default.createFile(atPath: plugins + "/model.so.bak", contents: Data())
        let files = try PluginLoader.candidates(in: plugins).map { URL(fileURLWithPath: $0.file).lastPathComponent }
        #expect(files == ["cache.so", "effects.so", "model.so", "trace.so", "world.so"])
        let set = try PluginLoader.loadSet(from: plugins)
        #expect(Set(set.keys) == Set(LayerKind.allCases))
    }

    @Test("two plugins for one kind are refused, naming both files")
    func duplicateKind() throws {
        let dir = TemporaryDirectory()
        let plugins = PluginBuilder.directory(in: dir)
        _ = try PluginBuilder.build(kind: .cache, into: plugins, name: "another-cache.so")
        #expect {
            try PluginLoader.loadSet(from: plugins)
        } throws: { error in
            "\(error)" == "two plugins capture the cache layer: \(plugins)/another-cache.so (org.pfhost.test.plugin, cache layer) and \(plugins)/cache.so (org.pfhost.test.plugin, cache layer); keep one of them in the directory"
        }
    }

    @Test("a kind with no plugin is refused")
    func missingKind() throws {
        let dir = TemporaryDirectory()
        let plugins = PluginBuilder.directory(in: dir)
        try FileManager.default.removeItem(atPath: plugins + "/effects.so")
        try FileManager.default.removeItem(atPath: plugins + "/trace.so")
        #expect {
            try PluginLoader.loadSet(from: plugins)
        } throws: { error in
            "\(error)" == "no plugin in \(plugins) captures the effects, trace layers; every snapshot needs all five"
        }
    }

    @Test("a missing directory is a clear error")
    func missingDirectory() {
        #expect {
            try PluginLoader.loadSet(from: "/nonexistent/plugins")
        } throws: { error in
            "\(error)" == "cannot read the plugin directory /nonexistent/plugins: No such file or directory (pass --plugins DIR or set PFHOST_PLUGINS)"
        }
    }
}
