import Foundation
import Testing
import PFModel
@testable import PFHost

/// Which files of a plugin directory are plugins: only `.so` files whose dynamic symbol table
/// defines `pf_plugin_entry_v1`, told before any `dlopen`; any other `.so` is skipped, never loaded.
@Suite("Plugin directory rules")
struct PluginDirectoryTests {
    /// A plugin directory holding the five standard plugins and `libsomething.so`, a library
    /// without the entry symbol whose constructor would create `marker`.
    struct Setup {
        let dir = TemporaryDirectory()
        let plugins: String
        let marker: String
        var store: String { dir.file("store") }

        init() throws {
            plugins = PluginBuilder.directory(in: dir)
            marker = dir.file("constructor-ran")
            _ = try PluginBuilder.build(kind: .trace, defines: ["TEST_NO_ENTRY", "PF_TEST_CONSTRUCTOR_MARKER=\"\(marker)\""],
                                        into: plugins, name: "libsomething.so")
        }

        var constructorRan: Bool { FileManager.default.fileExists(atPath: marker) }
    }

    @Test("the marker library's constructor does run when it is loaded (the test can fail)")
    func markerWorks() throws {
        let setup = try Setup()
        #expect(!setup.constructorRan)
        #expect(dlopen(setup.plugins + "/libsomething.so", RTLD_NOW | RTLD_LOCAL) != nil)
        #expect(setup.constructorRan)
    }

    @Test("pfhost plugins lists a stray library as skipped with the reason, exits 0, and never runs it")
    func pluginsListsSkipped() throws {
        let setup = try Setup()
        let output = try pfhost("plugins", "--plugins", setup.plugins)
        #expect(output.status == 0, "\(output)")
        let row = output.stdout.split(separator: "\n").first { $0.contains("libsomething.so") }
        #expect(row?.hasSuffix("skipped: not a plugin: it does not export pf_plugin_entry_v1 (a library, never loaded)") == true, "\(output)")
        let json = try pfhost("plugins", "--plugins", setup.plugins, "--json")
        #expect(json.status == 0, "\(json)")
        let value = try JSONParser.parse(Array(json.stdout.utf8.dropLast()))
        #expect(value["schema"] == .string("pfhost.plugins/1"))
        let skipped = value["plugins"]?.items?.first { $0["file"]?.stringValue?.hasSuffix("/libsomething.so") == true }
        #expect(skipped?["status"] == .string("skipped"))
        #expect(value["problem"] == .null)
        #expect(!setup.constructorRan)
    }

    @Test("a snapshot beside a stray library succeeds, in process and with --isolate, and never runs it",
          arguments: [[], ["--isolate"]])
    func snapshotSkips(extra: [String]) throws {
        let setup = try Setup()
        let output = try pfhost(["snapshot", "--plugins", setup.plugins, "--store", setup.store] + extra)
        #expect(output.status == 0, "\(output)")
        #expect(!setup.constructorRan)
    }

    @Test("the unchecked development mode skips it the same way")
    func insecureSkips() throws {
        let setup = try Setup()
        let output = try pfhost("plugins", "--plugins", setup.plugins, "--allow-insecure-plugins")
        #expect(output.status == 0, "\(output)")
        #expect(output.stdout.contains("skipped: not a plugin"))
        #expect(!setup.constructorRan)
    }

    @Test("loading the library as one plugin is a refusal, still before any dlopen")
    func loadOneRefused() throws {
        let setup = try Setup()
        #expect(throws: PluginRefusal.noEntrySymbol(file: setup.plugins + "/libsomething.so")) {
            try PluginLoader.load(setup.plugins + "/libsomething.so")
        }
        #expect(!setup.constructorRan)
    }

    @Test("a symbol that is only referenced, not defined, does not make a plugin")
    func undefinedEntryIsNoPlugin() throws {
        let dir = TemporaryDirectory()
        let source = dir.file("uses.c")
        try Data("extern const void *pf_plugin_entry_v1(void);\nconst void *call(void) { return pf_plugin_entry_v1(); }\n".utf8)
            .write(to: URL(fileURLWithPath: source))
        let library = dir.file("libuses.so")
        let built = try run("/usr/bin/cc", ["-shared", "-fPIC", "-o", library, source])
        #expect(built.status == 0, "\(built)")
        #expect(throws: PluginRefusal.noEntrySymbol(file: library)) {
            try PluginLoader.load(library, allowInsecurePlugins: true)
        }
    }
}
