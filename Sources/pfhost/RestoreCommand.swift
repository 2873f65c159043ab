import ArgumentParser
import Logging
import PFHost
import PFModel
import PFStore

/// `pfhost restore`: materialise a snapshot as an agent directory with the plugins' `restore`.
struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a snapshot as an agent directory: each layer under TARGET/<kind>/, and TARGET/pfhost.json.",
        discussion: """
            Each plugin restores its layer in the form its capture reads, and TARGET/pfhost.json points at \
            what was restored, so 'pfhost snapshot --config TARGET/pfhost.json --parent REF' snapshots the \
            restored agent (a fork). Prints TARGET on stdout; what plugins report (effects still pending, \
            what could not be re-created) goes to stderr. Exit status 73: TARGET exists and is not empty \
            (without --force), or cannot be created.
            """)

    @Argument(help: ArgumentHelp("The snapshot: a tag, a content id or a unique prefix of 12+ hex digits.", valueName: "ref"))
    var reference: String

    @OptionGroup var pluginsOptions: PluginsOptions

    @OptionGroup var storeOptions: StoreOptions

    @Option(name: .customLong("to"), help: ArgumentHelp("The agent directory to create (new, or an empty directory).", valueName: "target"))
    var target: String

    @Option(name: .customLong("only"), help: ArgumentHelp("Restore only these layers (repeatable, or comma-separated).", valueName: "kind"))
    var only: [String] = []

    @Option(name: .customLong("set"), help: ArgumentHelp("A restore setting for a plugin, or agent.KEY=VALUE for pfhost.json's agent section (repeatable).", valueName: "kind.key=value"))
    var settings: [String] = []

    @Flag(help: "Replace TARGET even if it exists and is not an empty directory (its content is removed).")
    var force = false

    @Flag(name: .customLong("keep-setid"), help: "Restore setuid and setgid bits as recorded (by default files get them cleared, and the restore lists them).")
    var keepSetID = false

    @Option(help: ArgumentHelp("Seconds the restores may take before they are cancelled.", valueName: "seconds"))
    var timeout: Int = 600

    @Flag(help: "Print the id, TARGET and per-layer plugin, settings, reports and time as JSON.")
    var json = false

    @Flag(name: .shortAndLong, help: "Log debug messages from the host and the plugins on stderr.")
    var verbose = false

    @OptionGroup var progressOptions: ProgressOptions

    func validate() throws {
        // An empty path would be the working directory itself, restored over.
        guard !target.isEmpty else { throw ValidationError("--to needs a directory; an empty value names none") }
        guard timeout > 0 else { throw ValidationError("--timeout must be a positive number of seconds") }
        _ = try kinds()
    }

    /// The `--only` kinds; empty for all five.
    func kinds() throws -> Set<LayerKind> {
        var kinds = Set<LayerKind>()
        for item in only.flatMap({ $0.split(separator: ",") }) {
            let name = item.trimmingPrefix(while: { $0 == " " })
            guard let kind = LayerKind(rawValue: String(name)) else {
                throw ValidationError("--only '\(name)' is not a layer (model, cache, world, effects, trace)")
            }
            kinds.insert(kind)
        }
        return kinds
    }

    func run() throws {
        let pluginsDirectory = try pluginsOptions.directory()
        var configuration = SnapshotConfiguration()
        do {
            for setting in settings { try configuration.apply(setting: setting) }
        } catch {
            throw fail(error, ExitStatus.configuration)
        }
        let level: Logger.Level = verbose ? .debug : .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let store = try storeOptions.open()
        let progress = progressOptions.line()
        var restorer = Restorer(store: store, logger: Logger(label: "pfhost"), onProgress: progress?.report)
        restorer.onBytes = progress?.bytes
        let request = RestoreRequest(
            reference: reference, pluginsDirectory: pluginsDirectory, target: target, kinds: try kinds(),
            settings: configuration, force: force, timeout: .seconds(timeout),
            allowInsecurePlugins: pluginsOptions.allowInsecurePlugins, keepSetID: keepSetID)
        let result: RestoreResult
        do {
            result = try restorer.restore(request)
        } catch {
            progress?.finish()
            throw fail(error, ExitStatus.of(error))
        }
        progress?.finish()
        var standardError = StandardError()
        for layer in result.layers {
            for report in layer.reports { print("pfhost: \(layer.kind): \(report.key): \(report.value)", to: &standardError) }
        }
        if !result.skipped.isEmpty {
            print("pfhost: not restored (--only): \(result.skipped.map(\.rawValue).joined(separator: ", ")); pfhost.json has no section for them",
                  to: &standardError)
        }
        if json {
            var layers: [String: JSONValue] = [:]
            for layer in result.layers {
                var reports: [String: JSONValue] = [:]
                for report in layer.reports { reports[report.key] = .string(report.value) }
                layers[layer.kind.rawValue] = .object([
                    "plugin": .object(["id": .string(layer.plugin.id), "version": .string(layer.plugin.version)]),
                    "file": .string(layer.file),
                    "config": .object(layer.configuration.mapValues { .string($0) }),
                    "reports": .object(reports),
                    "blobs": .int(Int64(layer.blobCount)),
                    "bytes": .int(layer.bytes),
                    "restore_ms": .int(layer.milliseconds),
                ])
            }
            JSONOutput.print(command: "restore", [
                "id": .string(result.id.description), "target": .string(result.target), "config": .string(result.configurationFile),
                "layers": .object(layers), "skipped": .array(result.skipped.map { .string($0.rawValue) }),
            ])
        } else {
            print(DisplayText.escaped(result.target))
        }
        try flushStandardOutput(done: "the restore is complete")
    }
}
