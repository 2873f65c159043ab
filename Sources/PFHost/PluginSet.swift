import Dispatch
import Logging
import PFModel
import PFStore
import PFSystem
#if canImport(Glibc)
import Glibc
#endif

/// A snapshot's five plugins, ready to capture: loaded into this process, or each loaded by a
/// capture process of its own (``CaptureIsolation/processes(executable:)``).
///
/// Either way the same rules pick the set (``PluginLoader/list(in:allowInsecurePlugins:)``'s
/// trust checks, then ``PluginLoader/assemble(_:directory:)``), and refusals read the same.
final class PluginSet {
    /// The plugin of each kind (in process, set once all are loaded).
    private(set) var plugins: [LayerKind: LoadedPlugin]
    private let store: SnapshotStore
    /// The capture process of each kind; empty in process.
    private let processes: [LayerKind: PluginProcess]
    private let grace: Duration

    private init(plugins: [LayerKind: LoadedPlugin], store: SnapshotStore, processes: [LayerKind: PluginProcess], grace: Duration) {
        self.plugins = plugins
        self.store = store
        self.processes = processes
        self.grace = grace
    }

    /// Loads the plugins of `request.pluginsDirectory` as `request.isolation` says.
    ///
    /// `onLoaded` is called with each plugin once it is ready to capture: in process, as soon as it
    /// is loaded (before the next, and before the set is checked); in capture processes, once
    /// the set is. In process, the file named `first` loads before the others
    /// (``PluginLoader/loadSet(from:allowInsecurePlugins:first:onLoaded:)``).
    static func load(_ request: SnapshotRequest, store: SnapshotStore, logger: Logger, first: String? = nil,
                     onLoaded: (PluginSet, LoadedPlugin) -> Void = { _, _ in }) throws(PluginSetError) -> PluginSet {
        switch request.isolation {
        case .inProcess:
            let set = PluginSet(plugins: [:], store: store, processes: [:], grace: request.grace)
            set.plugins = try PluginLoader.loadSet(from: request.pluginsDirectory, allowInsecurePlugins: request.allowInsecurePlugins,
                                                   first: first) { plugin in
                onLoaded(set, plugin)
            }
            return set
        case .processes(let executable):
            let set = try spawn(request, executable: executable, store: store, logger: logger)
            for kind in LayerKind.allCases { onLoaded(set, set.plugins[kind]!) }
            return set
        }
    }

    /// One capture process per trusted `.so` file, each of which says which plugin it loaded
    /// within the timeout.
    private static func spawn(_ request: SnapshotRequest, executable: String, store: SnapshotStore,
                              logger: Logger) throws(PluginSetError) -> PluginSet {
        let directory = request.pluginsDirectory
        let listings = try PluginLoader.list(in: directory, allowInsecurePlugins: request.allowInsecurePlugins)
        let environment = childEnvironment()
        var started: [(file: String, process: Result<PluginProcess, PluginRefusal>)] = []
        for listing in listings {
            let process = listing.path.flatMap { path -> Result<PluginProcess, PluginRefusal> in
                let options = CaptureProcessOptions(
                    file: listing.file, path: path, store: store.path, durability: store.durability,
                    allowInsecurePlugins: request.allowInsecurePlugins, logLevel: logger.logLevel, parentPID: getpid())
                do {
                    return .success(try PluginProcess.spawn(executable: executable, options: options, store: store, logger: logger,
                                                            environment: environment))
                } catch {
                    return .failure(.reported(file: listing.file, reason: "its capture process could not be started: \(error)"))
                }
            }
            started.append((listing.file, process))
        }
        let deadline = DispatchTime.now() + request.timeout.dispatchInterval
        let candidates = started.map { file, process in
            PluginLoader.Candidate(file: file, result: process.flatMap { $0.waitUntilLoaded(deadline: deadline, timeout: request.timeout) })
        }
        let everyProcess = started.compactMap { try? $0.process.get() }
        let plugins: [LayerKind: LoadedPlugin]
        do { plugins = try PluginLoader.assemble(candidates, directory: directory) } catch {
            for process in everyProcess { process.dismiss(grace: request.grace) }
            throw error
        }
        var processes: [LayerKind: PluginProcess] = [:]
        for process in everyProcess { processes[process.plugin.kind] = process }
        return PluginSet(plugins: plugins, store: store, processes: processes, grace: request.grace)
    }

    /// The environment of capture processes: this one's, unchanged (plugins may capture it).
    static func childEnvironment() -> [String] {
        var variables: [String] = []
        var entry = environ
        while let pointer = entry.pointee {
            variables.append(String(cString: pointer))
            entry += 1
        }
        return variables
    }

    /// The capture of `kind`, ready to start. `onBytes` hears of the bytes its capture stores (a
    /// capture process sends them over its pipe, at most ten times a second).
    func task(for plugin: LoadedPlugin, config: [String: String], parentLayer: [UInt8]?, logger: Logger,
              onProgress: (@Sendable (LayerKind, UInt64, UInt64) -> Void)?,
              onBytes: (@Sendable (LayerKind, UInt64) -> Void)? = nil) -> any CaptureTask {
        if let process = processes[plugin.kind] {
            process.prepare(CaptureRequest(config: config, parentLayer: parentLayer), onProgress: onProgress, onBytes: onBytes)
            return process
        }
        return InProcessCapture(context: CaptureContext(plugin: plugin, store: store, config: config,
                                                        parentLayer: parentLayer, logger: logger, onProgress: onProgress,
                                                        onBytes: onBytes))
    }

    /// Ends the capture processes that never captured (the snapshot failed before), at most
    /// after the grace period. The others have ended with their capture.
    func close() {
        for process in processes.values where process.outcome == nil { process.dismiss(grace: grace) }
    }
}
