import ArgumentParser
import Dispatch
import Logging
import PFHost
import PFModel
import PFSystem
#if canImport(Glibc)
import Glibc
#endif

/// `pfhost check-plugin FILE`: runs one plugin alone through every conformance check, in a worker
/// process so that a plugin that crashes or hangs fails a check instead of taking the checker down.
struct CheckPluginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-plugin",
        abstract: "Check one plugin alone against a scratch store: exports, table, settings, schema, blobs, determinism, parent reuse, descriptors, concurrent services, restore, cancellation.",
        discussion: "Prints one line per check (pass, fail, warn or skip, with the reason). Exits 0 only when no check failed (warnings do not count), 2 when one did, 78 for a --set of another kind than the plugin's. Needs no other plugin and no store.")

    /// The `"schema"` of `--json`'s output.
    static let schema = "pfhost.check-plugin/1"
    /// The whole run may take this long; then the worker is killed and the check it was in fails (each
    /// capture or restore is bounded by ``PluginChecker/captureTimeout``, 120 s, well within it).
    static let overallTimeout: Duration = .seconds(600)

    @Argument(help: ArgumentHelp("The plugin's .so file.", valueName: "file"))
    var file: String

    @Option(name: .customLong("set"), help: ArgumentHelp("A setting for the plugin: KEY=VALUE (or KIND.KEY=VALUE). Repeatable.", valueName: "key=value"))
    var settings: [String] = []

    @Option(help: ArgumentHelp("A pfhost config file; the section of the plugin's kind is used.", valueName: "file"))
    var config: String?

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    @Flag(help: ArgumentHelp("Check even a plugin that users other than root or you could have changed (development only)."))
    var allowInsecurePlugins = false

    @Flag(help: .hidden)
    var worker = false

    /// The worker's scratch directory, made and removed by the parent whatever happens to the worker.
    @Option(help: .hidden)
    var scratch: String?

    func run() throws {
        if worker { return try runWorker() }
        var names = PluginCheck.all.map(\.name)
        var checks: [PluginCheck] = []
        var current: String?
        var refusal: String?
        func record(_ check: PluginCheck) {
            names.removeAll { $0 == check.name }
            checks.append(check)
            if !json { print(Self.line(check)) }
        }
        let scratch = try PluginChecker.makeScratch()
        defer { try? SystemCalls().removeTree(scratch) }
        let end = try runInWorker(scratch: scratch) { line in
            guard let value = try? JSONParser.parse(line) else { return }
            if let begun = value["begin"]?.stringValue { current = begun }
            if let refused = value["refused"]?.stringValue { refusal = refused }
            if let check = PluginCheck(json: value) { record(check) }
        }
        if end != .exited(0) {
            let how = end.map { "\($0)" } ?? "still running after \(Self.overallTimeout), killed"
            let name = current.flatMap { names.contains($0) ? $0 : nil } ?? names.first
            if let name { record(PluginCheck(name, .fail, "the checker's worker process \(how) during this check: \(Self.consequence(of: name))")) }
            for name in names { record(PluginCheck(name, .skip, "not run: the plugin ended the worker process")) }
        }
        let failed = checks.filter { $0.status == .fail }.count
        if json {
            let output = JSONValue.object([
                "schema": .string(Self.schema), "file": .string(file), "passed": .bool(failed == 0), "checks": .array(checks.map(\.json)),
            ])
            print(String(decoding: CanonicalJSON.encode(output), as: UTF8.self))
        } else {
            let count = { (status: PluginCheck.Status) in checks.filter { $0.status == status }.count }
            print("\(failed == 0 ? "ok" : "FAILED"): \(count(.pass)) passed, \(failed) failed, \(count(.warn)) warnings, \(count(.skip)) skipped")
        }
        try flushStandardOutput()
        if let refusal {
            var standardError = StandardError()
            print("pfhost: error: \(refusal)", to: &standardError)
            throw ExitStatus.configuration
        }
        if failed > 0 { throw ExitStatus.pluginFailure }
    }

    /// What a plugin that ended the worker in check `name` means for pfhost itself.
    static func consequence(of name: String) -> String {
        if name == "restore" {
            return "the plugin crashed or hung in restore; pfhost restore runs plugins in its own process, so such a restore crashes or hangs pfhost restore too: fix the plugin"
        }
        return "the plugin crashed or hung (pfhost snapshot --isolate runs each capture in a process of its own, so a crash fails that capture instead)"
    }

    /// `pass  exports       …`.
    static func line(_ check: PluginCheck) -> String {
        let width = PluginCheck.all.map(\.name.count).max() ?? 0
        return "\(Formatting.pad(check.status.rawValue, 4))  \(Formatting.pad(check.name, width))  \(check.detail)"
    }

    /// Runs this command again as `--worker`, handing each line it prints to `line`; returns how it
    /// ended, or nil when it was killed at the overall timeout.
    private func runInWorker(scratch: String, _ line: (ArraySlice<UInt8>) -> Void) throws -> ProcessEnd? {
        var arguments = ["pfhost", "check-plugin", file, "--worker", "--scratch", scratch] + settings.flatMap { ["--set", $0] }
        if let config { arguments += ["--config", config] }
        if allowInsecurePlugins { arguments.append("--allow-insecure-plugins") }
        return try PluginChecker.runWorker(executable: "/proc/self/exe", arguments: arguments, timeout: Self.overallTimeout, line: line)
    }

    /// The worker: every check in this process, one JSON line each (and `{"begin":NAME}` before it).
    private func runWorker() throws {
        let checker = PluginChecker(file: file, settings: settings, configFile: config, allowInsecurePlugins: allowInsecurePlugins,
                                    scratch: scratch, logger: Logger(label: "pfhost"))
        let refusal = checker.run(begin: { name in
            print(String(decoding: CanonicalJSON.encode(.object(["begin": .string(name)])), as: UTF8.self))
            try? flushStandardOutput()
        }, report: { check in
            print(String(decoding: CanonicalJSON.encode(check.json), as: UTF8.self))
            try? flushStandardOutput()
        })
        if let refusal { print(String(decoding: CanonicalJSON.encode(.object(["refused": .string(refusal)])), as: UTF8.self)) }
        try flushStandardOutput()
        // Threads of a plugin that ignored cancellation may still run: end here, whatever they do.
        Glibc.exit(0)
    }
}
