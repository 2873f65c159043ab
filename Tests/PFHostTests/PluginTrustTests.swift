import Foundation
import Testing
import PFModel
import PFStore
import PFSystem
@testable import PFHost

/// Plugins others could have changed are refused before `dlopen`, so their constructors never run.
@Suite("Plugin trust")
struct PluginTrustTests {
    /// A plugin directory of the five standard test plugins (symlinks), where the trace plugin is
    /// one built to create `marker` from a constructor; and a store beside it.
    struct Setup {
        let dir = TemporaryDirectory()
        let plugins: String
        /// Created by the marked plugin's constructor, i.e. when anything dlopens it.
        var marker: String { dir.file("constructor-ran") }
        var store: String { dir.file("store") }

        init() throws {
            plugins = dir.directory("plugins")
            _ = try PluginBuilder.build(
                kind: .trace, defines: [#"PF_TEST_CONSTRUCTOR_MARKER="\#(dir.file("constructor-ran"))""#],
                into: plugins, name: "trace.so")
            for kind in LayerKind.allCases where kind != .trace {
                try FileManager.default.createSymbolicLink(atPath: plugins + "/\(kind).so", withDestinationPath: PluginBuilder.standard[kind]!)
            }
        }

        var markedFile: String { plugins + "/trace.so" }
        var constructorRan: Bool { FileManager.default.fileExists(atPath: marker) }

        func pluginsCommand(_ extra: [String] = []) throws -> ProcessOutput {
            try run(productsDirectory + "/pfhost", ["plugins", "--plugins", plugins] + extra)
        }

        func snapshot(_ extra: [String] = []) throws -> ProcessOutput {
            try run(productsDirectory + "/pfhost", ["snapshot", "--plugins", plugins, "--store", store] + extra)
        }
    }

    private static func chmod(_ path: String, _ mode: mode_t) throws {
        guard Foundation.chmod(path, mode) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno)!) }
    }

    /// The path without symlinks, as the refusals name it.
    private static func real(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    @Test("a plugin in a 0777 directory: both commands refuse the directory, naming the plugin, and never open it")
    func worldWritableDirectory() throws {
        let setup = try Setup()
        try Self.chmod(setup.plugins, 0o777)
        let reason = "refusing the plugin directory \(setup.plugins) (not loaded: cache.so, effects.so, model.so, trace.so, world.so): "
            + "\(Self.real(setup.plugins)) is writable by others (mode 0777); run chmod go-w \(Self.real(setup.plugins))"
        let listed = try setup.pluginsCommand()
        #expect(listed.status == 2, "\(listed)")
        #expect(listed.stderr == "pfhost: error: \(reason)\n", "\(listed)")
        let json = try setup.pluginsCommand(["--json"])
        #expect(json.status == 2 && json.stdout.isEmpty, "\(json)")
        let snapshot = try setup.snapshot()
        #expect(snapshot.status == 2, "\(snapshot)")
        #expect(snapshot.stderr == "pfhost: error: \(reason)\n", "\(snapshot)")
        #expect(!setup.constructorRan)
        #expect(try SnapshotStore(opening: setup.store).history().isEmpty)
    }

    @Test("--allow-insecure-plugins loads a plugin in a 0777 directory (its constructor runs), with a warning")
    func allowInsecure() throws {
        let setup = try Setup()
        try Self.chmod(setup.plugins, 0o777)
        let warning = "pfhost: warning: --allow-insecure-plugins: plugins are loaded without checking who could have changed them\n"
        let listed = try setup.pluginsCommand(["--allow-insecure-plugins"])
        #expect(listed.status == 0, "\(listed)")
        #expect(listed.stderr == warning)
        #expect(setup.constructorRan)
        try FileManager.default.removeItem(atPath: setup.marker)
        let snapshot = try setup.snapshot(["--allow-insecure-plugins"])
        #expect(snapshot.status == 0, "\(snapshot)")
        #expect(snapshot.stderr == warning)
        #expect(setup.constructorRan)
    }

    @Test("a group-writable .so in a good directory is refused by name, unopened; the others still load")
    func groupWritableFile() throws {
        let setup = try Setup()
        try Self.chmod(setup.markedFile, 0o775)
        let file = Self.real(setup.markedFile)
        let reason = "untrusted, never opened: \(file) is writable by its group (mode 0775); run chmod g-w \(file)"
        let listed = try setup.pluginsCommand()
        #expect(listed.status == 2, "\(listed)")
        let rows = listed.stdout.split(separator: "\n").map(String.init)
        #expect(rows.contains { $0.hasPrefix(setup.markedFile + " ") && $0.hasSuffix("refused: " + reason) }, "\(listed)")
        #expect(rows.filter { $0.hasSuffix("  ok") }.count == 4, "\(listed)")
        let snapshot = try setup.snapshot()
        #expect(snapshot.status == 2, "\(snapshot)")
        #expect(snapshot.stderr == "pfhost: error: \(setup.markedFile): \(reason)\n", "\(snapshot)")
        #expect(!setup.constructorRan)
    }

    @Test("a symlink to a plugin in a 0777 directory is refused, naming the link and the directory at fault")
    func linkIntoWritableDirectory() throws {
        let setup = try Setup()
        // Move the marked plugin out to a world-writable directory and point a relative link at it.
        let elsewhere = setup.dir.directory("elsewhere")
        try FileManager.default.moveItem(atPath: setup.markedFile, toPath: elsewhere + "/trace.so")
        try FileManager.default.createSymbolicLink(atPath: setup.markedFile, withDestinationPath: "../elsewhere/trace.so")
        try Self.chmod(elsewhere, 0o777)
        let reason = "untrusted, never opened: \(Self.real(elsewhere)) is writable by others (mode 0777); run chmod go-w \(Self.real(elsewhere))"
        let listed = try setup.pluginsCommand()
        #expect(listed.status == 2, "\(listed)")
        #expect(listed.stdout.contains(setup.markedFile), "\(listed)")
        #expect(listed.stdout.contains("refused: " + reason), "\(listed)")
        let snapshot = try setup.snapshot()
        #expect(snapshot.status == 2, "\(snapshot)")
        #expect(snapshot.stderr == "pfhost: error: \(setup.markedFile): \(reason)\n", "\(snapshot)")
        #expect(!setup.constructorRan)
        // The same link into a directory only its owner can write is fine.
        try Self.chmod(elsewhere, 0o755)
        #expect(try setup.pluginsCommand().status == 0)
        #expect(setup.constructorRan)
    }

    @Test("a sticky 1777 directory holding a 0755 plugin owned by you is accepted, and loads")
    func stickyDirectory() throws {
        let setup = try Setup()
        try Self.chmod(setup.plugins, 0o1777)
        let listed = try setup.pluginsCommand()
        #expect(listed.status == 0, "\(listed)")
        #expect(setup.constructorRan)
        let snapshot = try setup.snapshot()
        #expect(snapshot.status == 0, "\(snapshot)")
        // Sticky does not excuse the file itself.
        try FileManager.default.removeItem(atPath: setup.marker)
        try Self.chmod(setup.markedFile, 0o757)
        let file = Self.real(setup.markedFile)
        let refused = try setup.pluginsCommand()
        #expect(refused.status == 2, "\(refused)")
        #expect(refused.stdout.contains("refused: untrusted, never opened: \(file) is writable by others (mode 0757); run chmod o-w \(file)"), "\(refused)")
        #expect(!setup.constructorRan)
    }

    @Test("a writable directory above the plugin directory is refused, with a relative --plugins too")
    func writableAncestor() throws {
        let setup = try Setup()
        let above = setup.dir.directory("a")
        try FileManager.default.createDirectory(atPath: above + "/b", withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: setup.plugins, toPath: above + "/b/plugins")
        try Self.chmod(above, 0o770)
        let output = try run(productsDirectory + "/pfhost", ["plugins", "--plugins", "a/b/plugins"], currentDirectory: setup.dir.path)
        #expect(output.status == 2, "\(output)")
        let at = Self.real(above)
        #expect(output.stderr.hasPrefix("pfhost: error: refusing the plugin directory a/b/plugins (not loaded: "), "\(output)")
        #expect(output.stderr.hasSuffix(": \(at) is writable by its group (mode 0770); run chmod g-w \(at)\n"), "\(output)")
        #expect(!setup.constructorRan)
        try Self.chmod(above, 0o750)
        #expect(try run(productsDirectory + "/pfhost", ["plugins", "--plugins", "a/b/plugins"], currentDirectory: setup.dir.path).status == 0)
        #expect(setup.constructorRan)
    }

    @Test("a plugin or a plugin directory owned by another user is refused (as root: chown 65534)",
          .enabled(if: geteuid() == 0, "only root can give a file away"))
    func foreignOwner() throws {
        let setup = try Setup()
        guard chown(setup.markedFile, 65534, 65534) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno)!) }
        let file = Self.real(setup.markedFile)
        let listed = try setup.pluginsCommand()
        #expect(listed.status == 2, "\(listed)")
        #expect(listed.stdout.contains("refused: untrusted, never opened: \(file) is owned by uid 65534, not root; run chown root \(file) if you trust it"), "\(listed)")
        #expect(try setup.snapshot().status == 2)
        #expect(!setup.constructorRan)

        guard chown(setup.markedFile, 0, 0) == 0, chown(setup.plugins, 65534, 65534) == 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: errno)!)
        }
        let directory = try setup.snapshot()
        #expect(directory.status == 2, "\(directory)")
        #expect(directory.stderr.hasSuffix(": \(Self.real(setup.plugins)) is owned by uid 65534, not root; run chown root \(Self.real(setup.plugins)) if you trust it\n"), "\(directory)")
        #expect(!setup.constructorRan)
    }

    @Test("a link in a sticky shared directory must be yours: another user's could be swapped",
          .enabled(if: geteuid() == 0, "only root can give a file away"))
    func foreignLinkInStickyDirectory() throws {
        let setup = try Setup()
        try Self.chmod(setup.plugins, 0o1777)
        guard lchown(setup.plugins + "/model.so", 65534, 65534) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno)!) }
        let listed = try setup.pluginsCommand()
        #expect(listed.status == 2, "\(listed)")
        let link = Self.real(setup.plugins) + "/model.so"
        #expect(listed.stdout.contains("refused: untrusted, never opened: \(link) is owned by uid 65534, not root"), "\(listed)")
        // Outside a shared directory nobody else can replace the link, so its owner does not matter.
        try Self.chmod(setup.plugins, 0o755)
        #expect(try setup.pluginsCommand().status == 0)
    }

    @Test("the API: load refuses an untrusted file unopened unless allowInsecurePlugins")
    func api() throws {
        let setup = try Setup()
        try Self.chmod(setup.markedFile, 0o666)
        #expect {
            try PluginLoader.load(setup.markedFile)
        } throws: { error in
            guard case .untrusted(let file, .writable(let path, let mode))? = error as? PluginRefusal else { return false }
            return file == setup.markedFile && path == Self.real(setup.markedFile) && mode == 0o666
        }
        #expect(throws: PluginSetError.self) { try PluginLoader.loadSet(from: setup.plugins) }
        #expect(!setup.constructorRan)
        let plugin = try PluginLoader.load(setup.markedFile, allowInsecurePlugins: true)
        #expect(plugin.kind == .trace && plugin.file == setup.markedFile)
        #expect(setup.constructorRan)
    }

    @Test("without procfs at /proc/self/fd nothing is loaded, and the refusal says what to do")
    func noProc() throws {
        let setup = try Setup()
        let trust = PluginTrust(system: SystemCalls(faultHook: { operation, path in
            operation == .stat && path == "/proc/self/fd" ? ENOENT : nil
        }))
        #expect {
            try PluginLoader.load(setup.markedFile, allowInsecurePlugins: false, trust: trust)
        } throws: { error in
            "\(error)" == "\(setup.markedFile): not loaded: /proc/self/fd cannot be used (No such file or directory); pfhost loads each checked plugin "
                + "through /proc/self/fd so that exactly the checked file is loaded: mount /proc (mount -t proc proc /proc), or pass --allow-insecure-plugins (development only)"
        }
        #expect(!setup.constructorRan)
    }

    @Test("refusal messages name the bits to clear", arguments: [
        (UInt32(0o775), "writable by its group (mode 0775); run chmod g-w /p"),
        (UInt32(0o757), "writable by others (mode 0757); run chmod o-w /p"),
        (UInt32(0o777), "writable by others (mode 0777); run chmod go-w /p"),
        (UInt32(0o2777), "writable by others (mode 2777); run chmod go-w /p"),
    ])
    func messages(mode: UInt32, text: String) {
        #expect(PluginTrust.Problem.writable(path: "/p", mode: mode).description == "/p is " + text)
    }

    @Test("paths that are not plain words are quoted in the fix")
    func quoting() {
        #expect(PluginTrust.Problem.writable(path: "/my plugins/it's", mode: 0o777).description
            == #"/my plugins/it's is writable by others (mode 0777); run chmod go-w '/my plugins/it'\''s'"#)
        #expect(PluginTrust.Problem.foreignOwner(path: "/p", owner: 1001, effectiveUser: 1000).description
            == "/p is owned by uid 1001, not root or you (uid 1000); have root run chown 1000 /p if you trust it, or use a copy you own")
    }
}
