#if canImport(Glibc)
import Glibc
#endif
import Logging
import PFHost
import PFModel
import PFStore

/// What one `pfhost snapshot` was asked to do, as plain values, and doing it.
///
/// ``SnapshotCommand`` (ArgumentParser) fills it from any command line it accepts;
/// ``init(commandLine:)`` fills it, without ArgumentParser, from the plain command lines an agent
/// runs after every step. Both end in the same ``run()``. The defaults are `SnapshotCommand`'s.
struct SnapshotInvocation: Equatable {
    var plugins: String?
    var allowInsecurePlugins = false
    var store: String?
    var config: String?
    var settings: [String] = []
    var parents: [String] = []
    var tag: String?
    var agentKind: String?
    var agentVersion: String?
    var agentFingerprint: String?
    var durability: Durability = .batch
    var timeout = 600
    var isolate = false
    var json = false
    var verbose = false
    var progress = false
    var quiet = false

    /// The values ArgumentParser parsed into `command`.
    init(_ command: SnapshotCommand) {
        plugins = command.pluginsOptions.plugins
        allowInsecurePlugins = command.pluginsOptions.allowInsecurePlugins
        store = command.storeOptions.store
        config = command.config
        settings = command.settings
        parents = command.parents
        tag = command.tag
        agentKind = command.agentKind
        agentVersion = command.agentVersion
        agentFingerprint = command.agentFingerprint
        durability = command.durability
        timeout = command.timeout
        isolate = command.isolate
        json = command.json
        verbose = command.verbose
        progress = command.progressOptions.progress
        quiet = command.progressOptions.quiet
    }

    /// Every option at its default: `pfhost snapshot` alone.
    init() {}

    /// Captures the five layers and commits the snapshot; prints its id (or, with `--json`, the
    /// id and per-layer figures). Throws the `ExitCode` to end with, its message already printed.
    func run() throws {
        if let tag, let problem = SnapshotStore.tagProblem(tag) {
            throw fail("invalid tag '\(tag)': \(problem)", ExitStatus.usage)
        }
        // What the snapshot reads of the environment, through getenv: ProcessInfo's first use
        // costs half a millisecond.
        let environment = getenv("SOURCE_DATE_EPOCH").map { ["SOURCE_DATE_EPOCH": String(cString: $0)] } ?? [:]
        let pluginsDirectory = try PluginsOptions.directory(plugins, allowInsecurePlugins: allowInsecurePlugins)
        var configuration = SnapshotConfiguration()
        do {
            if let config { configuration = try SnapshotConfiguration.load(file: config) }
            for setting in settings { try configuration.apply(setting: setting) }
        } catch {
            throw fail(error, ExitStatus.configuration)
        }
        if let agentKind { configuration.agent["kind"] = agentKind }
        if let agentVersion { configuration.agent["version"] = agentVersion }
        if let agentFingerprint { configuration.agent["fingerprint"] = agentFingerprint }

        let level: Logger.Level = verbose ? .debug : .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let store: SnapshotStore
        do { store = try SnapshotStore.openOrCreate(at: StoreOptions.path(self.store), durability: durability) } catch {
            throw fail(error, ExitStatus.of(error))
        }
        let progress = ProgressOptions.line(progress: progress, quiet: quiet)
        var snapshotter = Snapshotter(store: store, logger: Logger(label: "pfhost"), onProgress: progress?.report)
        snapshotter.onBytes = progress?.bytes
        let request = SnapshotRequest(
            pluginsDirectory: pluginsDirectory, configuration: configuration, parents: parents, tag: tag,
            timeout: .seconds(timeout), environment: environment, allowInsecurePlugins: allowInsecurePlugins,
            isolation: isolate ? .processes(executable: "/proc/self/exe") : .inProcess)
        let result: SnapshotResult
        do {
            result = try snapshotter.snapshot(request)
        } catch {
            progress?.finish()
            throw fail(error, ExitStatus.of(error))
        }
        progress?.finish()
        StoreOptions.reportUpgrades(store)
        if json {
            var layers: [String: JSONValue] = [:]
            for layer in result.layers {
                layers[layer.kind.rawValue] = .object([
                    "plugin": .object(["id": .string(layer.plugin.id), "version": .string(layer.plugin.version)]),
                    "file": .string(layer.file),
                    "blobs": .int(Int64(layer.blobCount)),
                    "bytes": .int(layer.bytes),
                    "capture_ms": .int(layer.milliseconds),
                ])
            }
            JSONOutput.print(command: "snapshot", ["id": .string(result.id.description), "layers": .object(layers)])
        } else {
            print(result.id)
        }
        try flushStandardOutput(done: "the snapshot is committed: see 'pfhost log'")
    }
}
