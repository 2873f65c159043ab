import Logging
import PFModel
import PFStore
import PFSystem
#if canImport(Glibc)
import Glibc
#endif

/// Restores snapshots: materialises one as an agent directory, each layer restored by the plugin
/// of its kind under `TARGET/<kind>/` in the form its capture reads, and `TARGET/pfhost.json`, a
/// config whose sections point at what was restored. So a fork is a restore and a snapshot:
///
/// ```swift
/// let store = try SnapshotStore(opening: ".pfstore")
/// let restored = try Restorer(store: store).restore(RestoreRequest(reference: "main", pluginsDirectory: "plugins", target: "/agents/b"))
/// // pfhost snapshot --config /agents/b/pfhost.json --parent main --tag b
/// ```
///
/// Plugins restore in parallel, each on its own thread, through the restore services of ABI 1.1:
/// every blob they read is checked against its digest first (``BlobVerifier``), and everything they
/// create is created beneath their layer's directory following no symlink. The agent directory is
/// built beside TARGET and renamed into place at the end (``RestoreTarget``).
public struct Restorer: Sendable {
    /// The store the snapshots are in.
    public let store: SnapshotStore
    /// Where plugin and host messages go.
    public var logger: Logger
    /// Called with each plugin's progress reports, from the plugins' threads.
    public var onProgress: (@Sendable (LayerKind, UInt64, UInt64) -> Void)?
    /// Called with the bytes of each blob as it is handed to a layer's plugin (checked before, or for
    /// a large blob while the plugin copies it).
    public var onBytes: (@Sendable (LayerKind, UInt64) -> Void)?

    /// A restorer reading from `store`.
    public init(store: SnapshotStore, logger: Logger = Logger(label: "pfhost"),
                onProgress: (@Sendable (LayerKind, UInt64, UInt64) -> Void)? = nil) {
        self.store = store
        self.logger = logger
        self.onProgress = onProgress
    }

    /// Restores one snapshot.
    ///
    /// - Throws: ``RestoreError``; then TARGET is as it was.
    public func restore(_ request: RestoreRequest) throws(RestoreError) -> RestoreResult {
        let kinds = request.kinds.isEmpty ? LayerKind.allCases : LayerKind.allCases.filter(request.kinds.contains)
        let id: Digest
        let snapshot: Snapshot
        do {
            // Before the snapshot is read: a gc in another process then waits until this restore
            // ends instead of removing blobs under it (a store this user cannot write, which no gc
            // of theirs can change either, is read without one).
            try? store.acquireLease()
            id = try store.resolve(request.reference)
            snapshot = try store.snapshot(id)
        } catch {
            throw .store(error)
        }
        let manifest = snapshot.manifest
        let plugins = try plugins(for: kinds, manifest: manifest, request: request)

        let target = try RestoreTarget(request.target, force: request.force, store: store.path)
        var directories: [Int32] = []
        defer { for fd in directories { close(fd) } }
        var contexts: [RestoreContext] = []
        do {
            let layers = kinds.map { kind in (kind, manifest.layerSummaries.first { $0.kind == kind }!) }
            let verifier = BlobVerifier(store: store, layers: layers.map { $0.1.blobs.map { BlobRef(digest: $0.digest, size: $0.size) } })
            for (kind, summary) in layers {
                let directory = try target.makeLayerDirectory(kind)
                directories.append(directory)
                let plugin = plugins[kind]!
                let services = CaptureContext(
                    plugin: plugin, store: store, config: request.settings.layers[kind] ?? [:], parentLayer: nil,
                    logger: logger, onProgress: onProgress, onBytes: onBytes)
                contexts.append(RestoreContext(
                    kind: kind, plugin: plugin, services: services, directory: directory,
                    layer: snapshot.layerJSON[kind] ?? [], blobs: summary.blobs,
                    verifier: verifier, keepSetID: request.keepSetID, logger: logger))
            }
            verifier.start()
            defer { verifier.stop() }
            let outcomes: [RestoreRunner.Outcome]
            switch RestoreRunner(timeout: request.timeout, grace: request.grace).run(contexts) {
            case .success(let finished): outcomes = finished
            case .failure(let hung):
                // A restore still running may still write into the sibling: it stays until pfhost exits.
                directories = []
                throw RestoreError.timeout(plugins: hung.plugins, timeout: request.timeout, partial: target.partial)
            }
            // Large blobs were copied while they were hashed: wrong bytes fail the restore here,
            // before TARGET exists (a plugin that failed on them is then not what went wrong).
            do throws(StoreError) { try verifier.settle() } catch { throw RestoreError.store(error) }
            var failures: [RestoreFailure] = []
            for outcome in outcomes {
                // Aborts blob writers a plugin opened during its restore (capture services are not
                // for restores, but nothing of theirs may be left behind).
                _ = outcome.context.services.finish(returnCode: outcome.returnCode)
                // Restore settings are not declared (declared settings are the capture's), so a
                // key the restore never asked for is the only sign of a typo (`world.skip_specail`).
                let unread = outcome.context.services.unreadKeys
                if outcome.context.plugin.settings != nil, !unread.isEmpty {
                    let kind = outcome.context.kind
                    logger.warning("\(unread.map { "\(kind).\(DisplayText.escaped($0))" }.joined(separator: ", ")) set but never read by the restore of plugin \(outcome.context.plugin.label): a typo?")
                }
                guard outcome.returnCode != 0 else { continue }
                let said = outcome.context.snapshot
                let message = outcome.context.services.pluginError
                    ?? "restore returned \(CaptureContext.codeName(outcome.returnCode)) without a message"
                failures.append(RestoreFailure(plugin: outcome.context.plugin, message: message,
                                               hostError: said.hostError, storeError: said.storeError))
            }
            guard failures.isEmpty else { throw RestoreError.restores(failures) }

            var agent: [String: String] = ["kind": manifest.agent.kind, "version": manifest.agent.version,
                                           "fingerprint": manifest.agent.fingerprint]
            for (key, value) in request.settings.agent { agent[key] = value }
            var sections: [String: [String: String]] = ["agent": agent]
            for outcome in outcomes { sections[outcome.context.kind.rawValue] = outcome.context.snapshot.configuration }
            try target.writeFile("pfhost.json", Self.configurationFile(sections))
            try target.commit()

            let reports = outcomes.map { outcome in
                let said = outcome.context.snapshot
                return RestoreResult.LayerReport(
                    kind: outcome.context.kind, plugin: outcome.context.plugin.reference, file: outcome.context.plugin.file,
                    configuration: said.configuration,
                    reports: outcome.context.reports.map { RestoreResult.Report(key: $0.key, value: $0.value) },
                    blobCount: said.blobsOpened, bytes: said.bytesOpened, milliseconds: outcome.milliseconds)
            }
            return RestoreResult(id: id, target: target.path, configurationFile: target.path + "/pfhost.json", layers: reports,
                                 skipped: LayerKind.allCases.filter { !kinds.contains($0) })
        } catch let error as RestoreError {
            if case .timeout = error {} else { target.discard() }
            throw error
        } catch {
            target.discard()
            throw .target("\(error)")
        }
    }

    /// The plugin for each kind to restore: loaded and trusted as for a snapshot, able to restore,
    /// and the plugin that captured the layer (a plugin reads only its own blobs' formats).
    private func plugins(for kinds: [LayerKind], manifest: Manifest, request: RestoreRequest) throws(RestoreError) -> [LayerKind: LoadedPlugin] {
        let candidates: [PluginLoader.Candidate]
        // A constructor that never returns ends the restore at the timeout, naming the plugin.
        ExitGuard.shared.setConsequence("nothing was restored")
        let loadDeadline = LoadDeadline(timeout: request.timeout)
        defer { loadDeadline.met() }
        do {
            candidates = try PluginLoader.candidates(in: request.pluginsDirectory, allowInsecurePlugins: request.allowInsecurePlugins)
        } catch {
            throw .plugins(error)
        }
        var byKind: [LayerKind: LoadedPlugin] = [:]
        var refusals: [PluginRefusal] = []
        for candidate in candidates {
            switch candidate.result {
            case .failure(let refusal):
                if !refusal.isSkipped { refusals.append(refusal) }
            case .success(let plugin):
                if let other = byKind[plugin.kind] {
                    throw .plugins(.duplicateKind(plugin.kind, first: other.label, second: plugin.label))
                }
                byKind[plugin.kind] = plugin
            }
        }
        if !refusals.isEmpty { throw .plugins(.refused(refusals)) }
        let missing = kinds.filter { byKind[$0] == nil }
        if !missing.isEmpty { throw .missingPlugins(missing, directory: request.pluginsDirectory) }
        var problems: [String] = []
        for kind in kinds {
            let plugin = byKind[kind]!
            let captured = manifest.layerSummaries.first { $0.kind == kind }!.plugin
            if let refusal = plugin.restoreRefusal {
                problems.append("plugin \(plugin.label) cannot restore: \(refusal); restore the other layers with --only")
            } else if let captured, captured.id != plugin.id {
                problems.append("plugin \(plugin.label) cannot restore the \(kind) layer: \(captured.id) \(captured.version) captured it, and a plugin restores only what it captured (put \(captured.id) in --plugins, or leave the layer out with --only)")
            }
        }
        if !problems.isEmpty { throw .cannotRestore(problems) }
        return byKind.filter { kinds.contains($0.key) }
    }

    /// `pfhost.json`: one line per section, each a canonical JSON object, sections in byte order.
    static func configurationFile(_ sections: [String: [String: String]]) -> [UInt8] {
        var text: [UInt8] = Array("{\n".utf8)
        for (number, name) in sections.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
            text += Array("  ".utf8)
            CanonicalJSON.appendString(name, to: &text)
            text += Array(": ".utf8)
            text += CanonicalJSON.encode(.object(sections[name]!.mapValues { .string($0) }))
            text += Array((number == sections.count - 1 ? "\n" : ",\n").utf8)
        }
        text += Array("}\n".utf8)
        return text
    }
}
