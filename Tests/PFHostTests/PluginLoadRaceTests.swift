import CPFShims
import Foundation
import Synchronization
import Testing
import PFModel
import PFSystem
@testable import PFHost

/// What is loaded is exactly what was checked: files and directories swapped while pfhost checks
/// them are refused, never loaded.
@Suite("Plugin load races")
struct PluginLoadRaceTests {
    typealias Setup = PluginTrustTests.Setup

    /// Whether something happened yet, for a hook that must act once.
    final class Once: Sendable {
        private let done = Atomic<Bool>(false)
        /// True the first time only.
        func first() -> Bool { !done.exchange(true, ordering: .relaxed) }
    }

    /// A policy whose system calls run `action` once, just before the first `open` of `path`
    /// (the seam between the check of a name and its open).
    static func trust(openingAt path: String, _ action: @escaping @Sendable () -> Void) -> PluginTrust {
        let once = Once()
        return PluginTrust(system: SystemCalls(faultHook: { operation, opened in
            if operation == .open, opened == path, once.first() { action() }
            return nil
        }))
    }

    /// The path without symlinks, as the walk names it.
    static func real(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Another trace plugin whose constructor creates `marker`, built beside the plugin directory.
    static func evilPlugin(_ setup: Setup, mode: mode_t, name: String = "evil.so") throws -> (file: String, marker: String) {
        let marker = setup.dir.file(name + "-ran")
        let file = try PluginBuilder.build(kind: .trace, defines: [#"PF_TEST_CONSTRUCTOR_MARKER="\#(marker)""#],
                                           into: setup.dir.directory("elsewhere"), name: name)
        #expect(chmod(file, mode) == 0)
        return (file, marker)
    }

    @Test("the file at the checked path is replaced between the check and the open: refused as changed, nothing loaded",
          arguments: [mode_t(0o755), 0o666])
    func fileReplacedAfterCheck(mode: mode_t) throws {
        let setup = try Setup()
        // Even a replacement that would pass the check itself (0755, ours) is not what was checked.
        let evil = try Self.evilPlugin(setup, mode: mode)
        let checked = Self.real(setup.plugins) + "/trace.so"
        let trust = Self.trust(openingAt: checked) { _ = rename(evil.file, setup.markedFile) }
        let candidates = try PluginLoader.candidates(in: setup.plugins, allowInsecurePlugins: false, trust: trust)
        let trace = try #require(candidates.first { $0.file == setup.markedFile })
        guard case .failure(let refusal) = trace.result, case .untrusted(_, .changed(let path)) = refusal else {
            Issue.record("not refused as changed: \(trace.result)")
            return
        }
        #expect(path == checked)
        #expect(refusal.description == "\(setup.markedFile): not loaded: \(checked) changed while it was being checked (replaced, or its owner or mode changed, between the check and the open); nothing was loaded, try again once it is settled")
        #expect(candidates.filter { if case .success = $0.result { true } else { false } }.count == 4)
        #expect(!setup.constructorRan)
        #expect(!FileManager.default.fileExists(atPath: evil.marker))
    }

    @Test("the file's mode changes to 0666 between the check and the open: refused as changed")
    func modeChangedAfterCheck() throws {
        let setup = try Setup()
        let checked = Self.real(setup.plugins) + "/trace.so"
        let trust = Self.trust(openingAt: checked) { _ = chmod(setup.markedFile, 0o666) }
        #expect {
            try PluginLoader.load(setup.markedFile, allowInsecurePlugins: false, trust: trust)
        } throws: { error in
            guard case .untrusted(let file, .changed(let path))? = error as? PluginRefusal else { return false }
            return file == setup.markedFile && path == checked
        }
        #expect(!setup.constructorRan)
    }

    @Test("the plugin directory is swapped for a 0777 one between its check and its open: refused, nothing loaded")
    func directorySwappedAfterCheck() throws {
        let setup = try Setup()
        // A world-writable directory with a trusted-looking evil trace.so and the same other four.
        let bad = setup.dir.directory("bad")
        let evil = try Self.evilPlugin(setup, mode: 0o755)
        try FileManager.default.moveItem(atPath: evil.file, toPath: bad + "/trace.so")
        for kind in LayerKind.allCases where kind != .trace {
            try FileManager.default.createSymbolicLink(atPath: bad + "/\(kind).so", withDestinationPath: PluginBuilder.standard[kind]!)
        }
        #expect(chmod(bad, 0o777) == 0)
        let checked = Self.real(setup.plugins)
        let trust = Self.trust(openingAt: checked) { _ = pf_rename_exchange(AT_FDCWD, setup.plugins, AT_FDCWD, bad) }
        #expect {
            try PluginLoader.candidates(in: setup.plugins, allowInsecurePlugins: false, trust: trust)
        } throws: { error in
            guard case .untrustedDirectory(let directory, .changed(let path), _)? = error as? PluginSetError else { return false }
            return directory == setup.plugins && path == checked
        }
        #expect(!setup.constructorRan)
        #expect(!FileManager.default.fileExists(atPath: evil.marker))
    }

    /// A process that swaps two paths with `RENAME_EXCHANGE` in a tight loop until stopped, as an
    /// attacker's would (a thread of the test process gets less of the CPU while pfhost runs).
    ///
    /// Started with `posix_spawn`, not Foundation's `Process`: it closes every descriptor it
    /// inherits (other tests' pipes would otherwise stay open as long as it runs), and `Process`
    /// takes a closed descriptor of its own for the child's exit.
    final class Swapper {
        private let pid: pid_t

        /// Swaps each pair in turn, round and round.
        init(_ pairs: [(String, String)], in dir: TemporaryDirectory) throws {
            let source = dir.file("xchg.c"), program = dir.file("xchg")
            try? FileManager.default.removeItem(atPath: program)
            try Data(#"""
                #define _GNU_SOURCE
                #include <fcntl.h>
                #include <unistd.h>
                #include <sys/syscall.h>
                #include <linux/fs.h>
                int main(int argc, char **argv) {
                    if (argc < 3 || argc % 2 == 0) return 64;
                    for (int fd = 3; fd < 65536; fd++) close(fd);
                    for (;;)
                        for (int i = 1; i < argc; i += 2)
                            syscall(SYS_renameat2, AT_FDCWD, argv[i], AT_FDCWD, argv[i + 1], RENAME_EXCHANGE);
                }
                """#.utf8).write(to: URL(fileURLWithPath: source))
            let built = try run("/usr/bin/cc", ["-O2", "-o", program, source])
            guard built.status == 0 else { throw PluginBuilder.BuildFailure(output: built.description) }
            let arguments: [UnsafeMutablePointer<CChar>?] = ([program] + pairs.flatMap { [$0.0, $0.1] }).map { (text: String) -> UnsafeMutablePointer<CChar>? in strdup(text) } + [nil]
            defer { arguments.forEach { free($0) } }
            var pid: pid_t = 0
            let code = posix_spawn(&pid, program, nil, nil, arguments, environ)
            guard code == 0 else { throw POSIXError(POSIXErrorCode(rawValue: code)!) }
            self.pid = pid
        }

        /// Kills it (SIGKILL: a child may inherit a mask blocking the rest) and reaps it.
        func stop() {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
        }
    }

    /// Runs `pfhost plugins` on `directory` up to `runs` times or for `seconds` (while a swapper
    /// swaps); returns what each run printed.
    static func race(_ directory: String, runs: Int, seconds: Double) throws -> [ProcessOutput] {
        let deadline = Date().addingTimeInterval(seconds)
        var outputs: [ProcessOutput] = []
        while outputs.count < runs && Date() < deadline {
            let output = try run(productsDirectory + "/pfhost", ["plugins", "--plugins", directory])
            #expect(!output.signalled, "\(output)")
            outputs.append(output)
        }
        return outputs
    }

    /// How many copies of the trace plugin race at once: each is a window of its own in every run.
    static let copies = 16

    @Test("100 `pfhost plugins` while the plugin directory is swapped with a 0777 one holding evil plugins: they never run",
          .timeLimit(.minutes(3)))
    func directorySwapLoop() throws {
        let setup = try Setup()
        // Good: the five, and copies of the standard trace plugin (each its own file). Bad, 0777:
        // the same names, the copies being evil plugins that would pass a check of their own.
        let bad = setup.dir.directory("bad")
        let evil = try Self.evilPlugin(setup, mode: 0o755)
        for number in 0..<Self.copies {
            try FileManager.default.copyItem(atPath: PluginBuilder.standard[.trace]!, toPath: setup.plugins + "/t\(number).so")
            try FileManager.default.copyItem(atPath: evil.file, toPath: bad + "/t\(number).so")
        }
        for kind in LayerKind.allCases {
            try FileManager.default.createSymbolicLink(atPath: bad + "/\(kind).so", withDestinationPath: PluginBuilder.standard[kind]!)
        }
        #expect(chmod(bad, 0o777) == 0)
        let swapper = try Swapper([(setup.plugins, bad)], in: setup.dir)
        defer { swapper.stop() }
        let outputs = try Self.race(setup.plugins, runs: 100, seconds: 90)
        #expect(outputs.count >= 20)
        // Some runs found the 0777 directory, some the good one: the swaps did happen meanwhile.
        let refusedDirectory = outputs.contains { $0.stderr.contains("refusing the plugin directory") }
        let listed = outputs.contains { $0.stdout.contains("/t0.so") }
        #expect(refusedDirectory && listed)
        #expect(!FileManager.default.fileExists(atPath: evil.marker), "an evil constructor ran")
    }

    @Test("200 `pfhost plugins` while trace plugins are swapped with 0666 evil ones in the same directory: they never run",
          .timeLimit(.minutes(3)))
    func fileSwapLoop() throws {
        let setup = try Setup()
        let evil = try Self.evilPlugin(setup, mode: 0o666)
        var pairs: [(String, String)] = []
        for number in 0..<Self.copies {
            try FileManager.default.copyItem(atPath: PluginBuilder.standard[.trace]!, toPath: setup.plugins + "/t\(number).so")
            try FileManager.default.copyItem(atPath: evil.file, toPath: setup.plugins + "/t\(number).tmp")
            pairs.append((setup.plugins + "/t\(number).so", setup.plugins + "/t\(number).tmp"))
        }
        // Two swappers, so each pair is swapped as often as the machine allows.
        let swappers = [try Swapper(Array(pairs[..<(pairs.count / 2)]), in: setup.dir),
                        try Swapper(Array(pairs[(pairs.count / 2)...]), in: setup.dir)]
        defer { swappers.forEach { $0.stop() } }
        let outputs = try Self.race(setup.plugins, runs: 200, seconds: 90)
        #expect(outputs.count >= 20)
        // Some copies were refused as 0666, some loaded: the swaps did happen meanwhile.
        let refused = outputs.contains { $0.stdout.contains("(mode 0666)") }
        let loaded = outputs.contains { output in output.stdout.split(separator: "\n").contains { $0.contains("/t") && $0.hasSuffix("  ok") } }
        #expect(refused && loaded)
        #expect(!FileManager.default.fileExists(atPath: evil.marker), "an evil constructor ran")
    }
}
