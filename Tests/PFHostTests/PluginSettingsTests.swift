import CPFPluginABI
import PFBuildIdentity
import Foundation
import Testing
import PFModel
import PFStore
@testable import PFHost

/// Declared settings (ABI 1.1): the host checks configuration against what a plugin declares before
/// its capture runs; a plugin that declares none keeps the 1.0 behaviour with a warning.
@Suite("Declared settings")
struct PluginSettingsTests {
    /// The five test plugins with a trace plugin declaring settings, a store, and a config file in a
    /// directory of its own.
    struct Setup {
        let snapshot: SnapshotCommandTests.Setup
        var configDirectory: String { snapshot.dir.directory("agent") }

        init(defines: [String] = ["TEST_SETTINGS"]) throws {
            let dir = TemporaryDirectory()
            let trace = try PluginBuilder.build(kind: .trace, defines: defines, into: dir.path, name: "declaring.so")
            _ = Unmanaged.passRetained(dir)
            snapshot = SnapshotCommandTests.Setup(replacing: [.trace: trace])
        }

        /// Writes `pfhost.json` with `trace` as its trace section and snapshots with it.
        func run(trace: String, _ extra: [String] = []) throws -> ProcessOutput {
            let config = configDirectory + "/pfhost.json"
            try Data(#"{"trace": \#(trace)}"#.utf8).write(to: URL(fileURLWithPath: config))
            return try snapshot.snapshot(["--config", config] + extra)
        }

        /// The annotations of the trace layer a `show-config` capture recorded.
        func shown(_ output: ProcessOutput) throws -> [String: String] {
            #expect(output.status == 0, "\(output)")
            let id = try Digest(parsing: output.stdout.trimmingCharacters(in: .newlines))
            return try SnapshotStore(opening: snapshot.store).snapshot(id).manifest.trace.annotations
        }
    }

    @Test("a path setting from the config file is resolved against its directory; a string setting named root is not; defaults apply")
    func resolvesDeclaredPaths() throws {
        let setup = try Setup()
        let shown = try setup.shown(setup.run(trace: #"{"mode": "show-config", "db": "data/app.db", "root": "kept/as/is", "names": ["a", "b"]}"#))
        #expect(shown["db"] == setup.configDirectory + "/data/app.db")
        #expect(shown["root"] == "kept/as/is")
        #expect(shown["count"] == "3")
        #expect(shown["flag"] == "-")
        #expect(shown["names"] == "a,b")
        // From --set, a path is the user's own (relative to where pfhost runs), as before.
        let set = try setup.shown(setup.run(trace: #"{"mode": "show-config"}"#, ["--set", "trace.db=rel.db", "--set", "trace.count=-7"]))
        #expect(set["db"] == "rel.db" && set["count"] == "-7")
    }

    @Test("an unknown key is refused with exit 78, naming the key, the valid keys and the nearest one", arguments: [
        (["--set", "trace.contnet=x"], nil as String?, "trace.contnet is not a setting of plugin %P (did you mean trace.content?); its settings: content, count, db, flag, mode, names, path, restore_mode, root"),
        ([], #"{"paths": "x"}"#, "config file %C: trace.paths is not a setting of plugin %P (did you mean trace.path?); its settings: content, count, db, flag, mode, names, path, restore_mode, root"),
        (["--set", "trace.zzzzzz=1"], nil, "trace.zzzzzz is not a setting of plugin %P; its settings: content, count, db, flag, mode, names, path, restore_mode, root"),
        (["--set", "trace.count=many"], nil, "trace.count='many' must be a decimal integer (within 64 bits) (int setting of plugin %P: a number)"),
        ([], #"{"flag": "yes"}"#, "config file %C: trace.flag='yes' must be true or false (bool setting of plugin %P: a switch)"),
    ])
    func refused(extra: [String], trace: String?, message: String) throws {
        let setup = try Setup()
        let output = try setup.run(trace: trace ?? "{}", extra)
        let label = "\(setup.snapshot.plugins)/trace.so (org.pfhost.test.plugin, trace layer)"
        let expected = message.replacing("%P", with: label).replacing("%C", with: setup.configDirectory + "/pfhost.json")
        #expect(output.status == 78, "\(output)")
        #expect(output.stderr == "pfhost: error: \(expected)\n", "\(output)")
        #expect(setup.snapshot.blobCount == 0)
    }

    @Test("a required setting left unset is refused with exit 78, saying how to set it")
    func required() throws {
        let setup = try Setup(defines: ["TEST_SETTINGS", "TEST_SETTINGS_REQUIRED"])
        let output = try setup.run(trace: "{}")
        #expect(output.status == 78, "\(output)")
        #expect(output.stderr.hasSuffix("trace.needed is required by plugin \(setup.snapshot.plugins)/trace.so (org.pfhost.test.plugin, trace layer) (something the capture cannot do without): set it in the config file's \"trace\" section or with --set trace.needed=VALUE\n"), "\(output)")
        #expect(try setup.run(trace: #"{"needed": "here"}"#).status == 0)
    }

    @Test("the same checks with --isolate, where the plugin is loaded in another process")
    func isolated() throws {
        let setup = try Setup()
        let output = try setup.run(trace: "{}", ["--isolate", "--set", "trace.contnet=x"])
        #expect(output.status == 78, "\(output)")
        #expect(output.stderr.contains("(did you mean trace.content?)"), "\(output)")
        let shown = try setup.shown(setup.run(trace: #"{"mode": "show-config", "db": "x.db"}"#, ["--isolate"]))
        #expect(shown["db"] == setup.configDirectory + "/x.db")
    }

    @Test("a plugin that declares none (ABI 1.0, or 1.1 without settings) keeps the name rule, with a warning for keys it never read")
    func undeclared() throws {
        let dir = TemporaryDirectory()
        let old = try PluginBuilder.build(kind: .trace, header: try PluginABITests.frozenHeader(in: dir), into: dir.path, name: "trace-1.0.so")
        for plugin in [old, PluginBuilder.standard[.trace]!] {
            let setup = SnapshotCommandTests.Setup(replacing: [.trace: plugin])
            let config = setup.dir.directory("agent") + "/pfhost.json"
            try Data(#"{"trace": {"mode": "show-config", "db": "data/app.db", "root": "r", "exlcude": "*.log"}}"#.utf8).write(to: URL(fileURLWithPath: config))
            let output = try setup.snapshot(["--config", config])
            #expect(output.status == 0, "\(output)")
            #expect(output.stderr.contains("warning") && output.stderr.contains("trace.exlcude set but never read by plugin \(setup.plugins)/trace.so (org.pfhost.test.plugin, trace layer), which declares no settings: a typo?"), "\(output)")
            let id = try Digest(parsing: output.stdout.trimmingCharacters(in: .newlines))
            let shown = try SnapshotStore(opening: setup.store).snapshot(id).manifest.trace.annotations
            #expect(shown["db"] == "data/app.db")            // not a path by its name
            #expect(shown["root"] == setup.dir.file("agent") + "/r")   // a path by its name
        }
    }

    @Test("pfhost plugins shows the declared settings, in text and JSON")
    func listed() throws {
        let setup = try Setup()
        let text = try pfhost("plugins", "--plugins", setup.snapshot.plugins)
        #expect(text.status == 0, "\(text)")
        #expect(text.stdout.contains("settings of \(setup.snapshot.plugins)/trace.so:\n  trace.mode          string, default ok: what the test plugin does\n"), "\(text)")
        #expect(text.stdout.contains("  trace.db            path: a path whose key the name rule would miss\n"), "\(text)")
        #expect(text.stdout.contains("settings of \(setup.snapshot.plugins)/world.so: none declared (ABI 1.1): every world.KEY is passed unchecked\n"), "\(text)")
        let json = try pfhost("plugins", "--plugins", setup.snapshot.plugins, "--json")
        let value = try JSONParser.parse(Array(json.stdout.utf8.dropLast()))
        let trace = try #require(value["plugins"]?.items?.first { $0["kind"] == .string("trace") })
        let count = try #require(trace["settings"]?.items?.first { $0["key"] == .string("count") })
        #expect(count == .object(["key": .string("count"), "type": .string("int"), "required": .bool(false), "default": .string("3"), "help": .string("a number")]))
        let world = try #require(value["plugins"]?.items?.first { $0["kind"] == .string("world") })
        #expect(world["settings"] == .null)
    }

    @Test("the reference plugins declare their settings, and the example agents' configs pass them")
    func referencePlugins() throws {
        for kind in LayerKind.allCases {
            let plugin = try PluginLoader.load(productsDirectory + "/libpf-\(kind).so")
            let settings = try #require(plugin.settings, "\(kind) declares no settings")
            #expect(!settings.isEmpty)
        }
        let world = try PluginLoader.load(productsDirectory + "/libpf-world.so")
        #expect(world.settings?.first { $0.key == "root" } == DeclaredSetting(key: "root", type: .path, required: true, defaultValue: nil, help: "the agent's working directory"))
    }

    @Test("declarations a host cannot use are refused at load", arguments: [
        ("bad_key", "settings[0].key \"Bad Key\" is not 1 to 64 of a-z, 0-9 and _ starting with a letter"),
        ("bad_type", "settings[0] (x) has unknown type 9 (known: 1 string, 2 bool, 3 int, 4 path, 5 list)"),
        ("bad_default", "settings[0] (x) has default \"maybe\", which must be true or false"),
        ("duplicate", "settings[1].key \"x\" is declared twice"),
        ("no_help", "settings[0] (x) has no help line"),
    ])
    func badDeclarations(name: String, problem: String) throws {
        let entries = switch name {
        case "bad_key": #"{"Bad Key", PF_SETTING_STRING, 0, NULL, "h"}"#
        case "bad_type": #"{"x", 9, 0, NULL, "h"}"#
        case "bad_default": #"{"x", PF_SETTING_BOOL, 0, "maybe", "h"}"#
        case "duplicate": #"{"x", PF_SETTING_STRING, 0, NULL, "h"}, {"x", PF_SETTING_INT, 0, NULL, "h"}"#
        default: #"{"x", PF_SETTING_STRING, 0, NULL, NULL}"#
        }
        let dir = TemporaryDirectory()
        let source = dir.file("p.c")
        try Data("""
            #include "pf_plugin.h"
            static int32_t capture(const pf_host *h, pf_ctx *c) { (void)h; (void)c; return PF_ERR_INTERNAL; }
            static const pf_setting settings[] = { \(entries) };
            static const pf_plugin plugin = { sizeof(pf_plugin), PF_ABI_MAJOR, PF_ABI_MINOR, PF_LAYER_TRACE, "org.example.t", "1.0.0", "t",
                capture, NULL, sizeof(pf_setting), sizeof settings / sizeof settings[0], settings, NULL };
            PF_PLUGIN_EXPORT const pf_plugin *pf_plugin_entry_v1(void) { return &plugin; }

            """.utf8).write(to: URL(fileURLWithPath: source))
        let file = dir.file("p.so")
        let built = try run("/usr/bin/cc", ["-shared", "-fPIC", "-fvisibility=hidden", "-I", repositoryRoot + "/plugin-sdk/include", "-o", file, source])
        try #require(built.status == 0, "\(built)")
        #expect { try PluginLoader.load(file, allowInsecurePlugins: true) } throws: { error in
            (error as? PluginRefusal)?.description == "\(file): declares settings pfhost cannot use: \(problem)"
        }
    }

    @Test("a Swift plugin built with another Swift is refused naming both; a C identity or none loads")
    func buildIdentity() throws {
        let dir = TemporaryDirectory()
        let other = try PluginBuilder.build(kind: .trace, defines: [#"TEST_BUILD_IDENTITY="swift-5.10""#], into: dir.path, name: "other.so")
        let host = BuildIdentity.swiftRuntime
        #expect { try PluginLoader.load(other) } throws: { error in
            (error as? PluginRefusal)?.description == "\(other): built with swift-5.10, but this pfhost was built with \(host): Swift has no stable ABI on Linux and a Swift plugin runs on the host's Swift runtime, so rebuild the plugin with the \(host) toolchain (or use a pfhost built with swift-5.10)"
        }
        let same = try PluginBuilder.build(kind: .trace, defines: ["TEST_BUILD_IDENTITY=\"\(host)\""], into: dir.path, name: "same.so")
        #expect(try PluginLoader.load(same).buildIdentity == host)
        let c = try PluginBuilder.build(kind: .trace, defines: [#"TEST_BUILD_IDENTITY="gcc-14""#], into: dir.path, name: "c.so")
        #expect(try PluginLoader.load(c).buildIdentity == "gcc-14")
        for kind in LayerKind.allCases {
            #expect(try PluginLoader.load(productsDirectory + "/libpf-\(kind).so").buildIdentity == host)
        }
    }

    @Test("pfhost --version prints the plugin ABI and the Swift runtime")
    func version() throws {
        let output = try pfhost("--version")
        #expect(output.status == 0)
        #expect(output.stdout == "pfhost 0.1.0 (plugin ABI 1.1, \(BuildIdentity.swiftRuntime))\n", "\(output)")
    }

    @Test("the 1.1 fields are appended after restore, in the header's order, and PF_SETTING_SIZE_1_1 is 32")
    func appended() {
        let restore = MemoryLayout<pf_plugin>.offset(of: \pf_plugin.restore)!
        #expect(restore + 8 == MemoryLayout<pf_plugin>.offset(of: \pf_plugin.setting_size)!)
        #expect(MemoryLayout<pf_plugin>.offset(of: \pf_plugin.setting_count)! == restore + 12)
        #expect(MemoryLayout<pf_plugin>.offset(of: \pf_plugin.settings)! == restore + 16)
        #expect(MemoryLayout<pf_plugin>.offset(of: \pf_plugin.build_identity)! == restore + 24)
        #expect(MemoryLayout<pf_setting>.size == 32)
    }

    @Test("a restore records only declared settings, of their declared type, as UTF-8: else it fails naming the key",
          arguments: [("config-undeclared", "trace.undeclared: not a setting the plugin declares"),
                      ("config-wrong-type", "trace.count='many' must be a decimal integer"),
                      ("config-not-utf8", "trace.content: the value is not valid UTF-8")])
    func restoredSettings(mode: String, message: String) throws {
        let setup = try Setup()
        #expect(try setup.snapshot.snapshot(["--tag", "t"]).status == 0)
        let target = setup.snapshot.dir.file("target")
        func restore(_ mode: String) throws -> ProcessOutput {
            try run(productsDirectory + "/pfhost", ["restore", "t", "--plugins", setup.snapshot.plugins, "--store", setup.snapshot.store,
                                                    "--to", target, "--only", "trace", "--set", "trace.restore_mode=\(mode)"])
        }
        let refused = try restore(mode)
        #expect(refused.status == 2, "\(refused)")
        #expect(refused.stderr.contains(message), "\(refused)")
        #expect(!FileManager.default.fileExists(atPath: target))
        // What a restore does write, the next snapshot takes.
        let restored = try restore("ok")
        #expect(restored.status == 0, "\(restored)")
        let again = try setup.snapshot.snapshot(["--config", target + "/pfhost.json"])
        #expect(again.status == 0, "\(again)")
    }

    @Test("a plugin that declares no settings still cannot record bytes that are not UTF-8")
    func restoredSettingNotText() throws {
        let setup = SnapshotCommandTests.Setup()
        #expect(try setup.snapshot(["--tag", "t"]).status == 0)
        let output = try run(productsDirectory + "/pfhost", ["restore", "t", "--plugins", setup.plugins, "--store", setup.store,
                                                             "--to", setup.dir.file("target"), "--only", "trace", "--set", "trace.restore_mode=config-not-utf8"])
        #expect(output.status == 2, "\(output)")
        #expect(output.stderr.contains("trace.content: the value is not valid UTF-8"), "\(output)")
    }
}
