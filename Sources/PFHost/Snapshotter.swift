import Logging
import PFModel
import PFStore

/// Takes snapshots: loads the plugins, runs their captures in parallel (in this process, or each
/// in a process of its own: ``SnapshotRequest/isolation``), checks and assembles the layers into
/// a manifest, and commits it.
///
/// ```swift
/// let store = try SnapshotStore.openOrCreate(at: ".pfstore")
/// let result = try Snapshotter(store: store).snapshot(SnapshotRequest(pluginsDirectory: "plugins"))
/// print(result.id)
/// ```
public struct Snapshotter: Sendable {
    /// The store snapshots go into.
    public let store: SnapshotStore
    /// Where plugin and host messages go.
    public var logger: Logger
    /// Called with each plugin's progress reports, from the plugins' threads.
    public var onProgress: (@Sendable (LayerKind, UInt64, UInt64) -> Void)?
    /// Called, from the plugins' threads (or, for captures in processes of their own, the thread
    /// reading their messages), with the bytes each layer's capture stores: every blob stored,
    /// whether new or already in the store.
    public var onBytes: (@Sendable (LayerKind, UInt64) -> Void)?

    /// A snapshotter writing into `store`.
    public init(store: SnapshotStore, logger: Logger = Logger(label: "pfhost"),
                onProgress: (@Sendable (LayerKind, UInt64, UInt64) -> Void)? = nil) {
        self.store = store
        self.logger = logger
        self.onProgress = onProgress
    }

    /// Takes one snapshot.
    ///
    /// Before it captures, it removes the temporary files that writers which are gone left in the
    /// store's `ingest/` (``SnapshotStore/reclaimAbandonedFiles(dryRun:)``); when it fails, it
    /// removes every temporary file it wrote itself.
    ///
    /// - Throws: ``SnapshotError``; then nothing was committed and nothing of it is left in `ingest/`.
    public func snapshot(_ request: SnapshotRequest) throws(SnapshotError) -> SnapshotResult {
        var capturesRunning = false
        do {
            return try takeSnapshot(request, capturesRunning: &capturesRunning)
        } catch {
            // A capture that timed out, or ignored the stop of a refused snapshot, may still be
            // writing: its files go when the process ends (the next snapshot reclaims them), never
            // from under it.
            if case .timeout = error {} else if !capturesRunning { store.discardPending() }
            throw error
        }
    }

    private func takeSnapshot(_ request: SnapshotRequest, capturesRunning: inout Bool) throws(SnapshotError) -> SnapshotResult {
        let clock = ContinuousClock()
        var phase = clock.now
        func lap(_ what: String) {
            let now = clock.now
            logger.debug("\(what) in \(now - phase)")
            phase = now
        }
        // What every capture needs, settled before the first one starts. A failure here is
        // reported after the plugin set's, like before the captures overlapped the loading, and
        // then no capture starts.
        let prepared = Result { () throws(SnapshotError) in try prepare(request) }
        lap("read the parent")

        // Each plugin's capture starts as soon as the plugin is loaded and its configuration
        // section checks out, while the later plugins load. What refuses the snapshot once some
        // have started (a plugin refused, a kind twice or missing, a bad section) stops them.
        let run = CaptureRunner(timeout: request.timeout, grace: request.grace).start(count: LayerKind.allCases.count)
        var started: [LayerKind: any CaptureTask] = [:]
        var sectionErrors: [LayerKind: ConfigurationError] = [:]
        func refuse(_ error: SnapshotError) -> SnapshotError {
            run.stop()
            // A capture that ignored the stop for the grace period is abandoned; the caller exits.
            do { _ = try run.finish() } catch { capturesRunning = true }
            return error
        }
        let pluginSet: PluginSet
        let store = store
        // In process, the plugin whose capture took longest last time loads first: its capture
        // starts earliest. Capture processes all start at once.
        let loadFirst = request.isolation == .inProcess ? store.pluginToLoadFirst() : nil
        let loadDeadline = request.isolation == .inProcess ? LoadDeadline(timeout: request.timeout) { store.discardPending() } : nil
        do throws(PluginSetError) {
            pluginSet = try PluginSet.load(request, store: store, logger: logger, first: loadFirst) { set, plugin in
                let kind = plugin.kind
                guard case .success(let prepared) = prepared, started[kind] == nil, sectionErrors.isEmpty else { return }
                let section: [String: String]
                do throws(ConfigurationError) { section = try request.configuration.section(for: kind, plugin: plugin) } catch {
                    sectionErrors[kind] = error
                    run.stop()
                    return
                }
                let task = set.task(for: plugin, config: section, parentLayer: prepared.parentLayers?[kind]?.json,
                                    logger: logger, onProgress: onProgress, onBytes: onBytes)
                started[kind] = task
                run.start(task, at: LayerKind.allCases.firstIndex(of: kind)!)
            }
        } catch {
            loadDeadline?.met()
            throw refuse(.plugins(error))
        }
        loadDeadline?.met()
        defer { pluginSet.close() }
        let plugins = pluginSet.plugins
        // A configuration error before the store's, the first in the order of the kinds.
        let unprepared = if case .failure = prepared { true } else { false }
        if !sectionErrors.isEmpty || unprepared {
            for kind in LayerKind.allCases where started[kind] == nil {
                if let error = sectionErrors[kind] { throw refuse(.configuration(error)) }
                do { _ = try request.configuration.section(for: kind, plugin: plugins[kind]!) } catch {
                    throw refuse(.configuration(error))
                }
            }
        }
        let ready: Prepared
        switch prepared {
        case .success(let value): ready = value
        case .failure(let error): throw refuse(error)
        }
        let (createdAt, parents, parentLayers) = (ready.createdAt, ready.parents, ready.parentLayers)
        lap("loaded the plugins, starting each capture as its plugin loaded")
        let tasks = LayerKind.allCases.map { started[$0]! }
        let report: CaptureRunner.Report
        do {
            report = try run.finish()
        } catch {
            throw .timeout(error)
        }
        // The set is sound: what each capture in this process was given and never read (capture
        // processes say it themselves).
        for task in tasks { (task as? InProcessCapture)?.context.warnOfUnreadKeys() }
        if let damage = Self.parentDamage(report.failures, parent: parents.first, layers: parentLayers ?? [:], store: store) { throw .store(damage) }
        // The failure that cancelled the others comes first.
        guard report.failures.isEmpty else { throw .captures(report.failures) }
        let outcomes = report.outcomes
        var layers: [LayerKind: CapturedLayer] = [:]
        for outcome in outcomes {
            if case .success(let layer) = outcome.result { layers[outcome.plugin.kind] = layer }
        }
        lap("captured the five layers")

        let agent = request.configuration.agent
        let assembled = Self.assemble(
            layers, plugins: plugins,
            agent: Agent(kind: agent["kind"] ?? "unknown", version: agent["version"] ?? "0.0.0", fingerprint: agent["fingerprint"] ?? ""),
            createdAt: createdAt, parents: parents)
        lap("assembled the manifest")
        let id: Digest
        let manifest: Manifest
        // A snapshot whose parent is its tag's head goes onto the head as it is at commit time, so
        // concurrent snapshots to one tag form one chain.
        let onTagHead = request.parents.isEmpty && request.tag != nil
        let reusing = Self.unchangedLayers(tasks, parentLayers: parentLayers ?? [:])
        if !reusing.isEmpty {
            logger.debug("unchanged, stored as the parent's: the \(LayerKind.allCases.filter { reusing[$0] != nil }.map(\.rawValue).joined(separator: ", ")) layer configs")
        }
        do { (id, manifest) = try store.commit(assembled, tag: request.tag, onTagHead: onTagHead, reusing: reusing) } catch { throw .store(error) }
        lap("committed \(id)")
        if request.isolation == .inProcess { Self.rememberLongestCapture(outcomes, recorded: loadFirst, store: store) }
        let reports = outcomes.map { outcome in
            let summary = manifest.layerSummaries.first { $0.kind == outcome.plugin.kind }!
            return SnapshotResult.LayerReport(
                kind: outcome.plugin.kind, plugin: outcome.plugin.reference, file: outcome.plugin.file,
                blobCount: summary.blobs.count, bytes: summary.totalBytes, milliseconds: outcome.milliseconds)
        }
        return SnapshotResult(id: id, manifest: manifest, layers: reports)
    }

    /// Records in the store which plugin's capture took longest, for the next snapshot to load it
    /// first (``SnapshotStore/pluginToLoadFirst()``); writes nothing when that is already the one
    /// `recorded` (read before loading), or one as long.
    static func rememberLongestCapture(_ outcomes: [CaptureRunner.Outcome], recorded: String?, store: SnapshotStore) {
        guard let longest = outcomes.map(\.milliseconds).max() else { return }
        func name(_ outcome: CaptureRunner.Outcome) -> String { String(outcome.plugin.file.split(separator: "/").last ?? "") }
        guard !outcomes.contains(where: { $0.milliseconds == longest && name($0) == recorded }),
              let first = outcomes.first(where: { $0.milliseconds == longest })
        else { return }
        store.rememberPluginToLoadFirst(name(first))
    }

    /// What every capture of a snapshot needs before it starts.
    private struct Prepared {
        let createdAt: String
        let parents: [Digest]
        /// The first parent's layers (nil without a parent).
        let parentLayers: [LayerKind: StoredLayer]?
    }

    /// Removes what writers that are gone left in the store's `ingest/`, takes the snapshot's
    /// time, holds off gc (a lease), and reads the parent.
    private func prepare(_ request: SnapshotRequest) throws(SnapshotError) -> Prepared {
        do {
            let reclaimed = try store.reclaimAbandonedFiles()
            if reclaimed.files > 0 {
                logger.info("removed \(reclaimed.files) temporary files (\(reclaimed.bytes) bytes) that writers which are gone left in \(store.path)/ingest")
            }
        } catch {
            throw .store(error)
        }
        let createdAt: String
        do { createdAt = try Timestamp.forNewSnapshot(environment: request.environment) } catch {
            throw .configuration(ConfigurationError(file: nil, message: error.description))
        }
        do {
            // Before the parent is read: from here until this process ends, gc waits for it.
            try store.acquireLease()
            let parents: [Digest]
            if request.parents.isEmpty {
                parents = try request.tag.flatMap { tag throws(StoreError) in try store.snapshotID(tagged: tag) }.map { [$0] } ?? []
            } else {
                parents = try request.parents.map { reference throws(StoreError) in try store.resolve(reference) }
            }
            let parentLayers = try parents.first.map { id throws(StoreError) in try store.layers(of: id) }
            return Prepared(createdAt: createdAt, parents: parents, parentLayers: parentLayers)
        } catch {
            throw .store(error)
        }
    }

    /// The store's damage behind a failed snapshot, when that is what failed it: the first failure
    /// (the one that cancelled the others) is the host refusing a layer, and either the layer was the
    /// parent's handed back unchanged, or the parent's layer of that kind is itself unsound (what
    /// `pfhost verify` reports of it). Then the plugin did nothing wrong: the error names the stored
    /// layer (or its missing or damaged blob), exit 3. A capture that failed on its own (an error, a
    /// crash, `exit()`, a timeout) is the plugin's, whatever its parent holds.
    static func parentDamage(_ failures: [CaptureFailure], parent: Digest?, layers: [LayerKind: StoredLayer],
                             store: SnapshotStore) -> StoreError? {
        guard let parent, let failure = failures.first, failure.layerRefused else { return nil }
        let kind = failure.plugin.kind
        guard let stored = layers[kind] else { return nil }
        if let damage = failure.parentLayerDamage {
            return .corrupt(file: store.blobPath(failure.damagedBlob ?? stored.blob),
                            reason: "the \(kind) layer of snapshot \(parent), handed back unchanged by plugin \(failure.plugin.label), does not check out: \(damage)")
        }
        guard let problem = LayerValidator.storedLayerProblem(stored.json, kind: kind) else { return nil }
        return .corrupt(file: store.blobPath(stored.blob), reason: "the \(kind) layer of snapshot \(parent), given to plugin \(failure.plugin.label) as its parent's layer, is damaged: \(problem) (the layer the plugin built on it was refused: \(failure.message)); a snapshot without --parent (or onto another tag) starts from a sound layer")
    }

    /// The layers the plugins handed back as the parent's layer unchanged, stamped by the same plugin
    /// and stored byte for byte as a config: each with that config, which the commit names instead
    /// of encoding and storing the layer again.
    static func unchangedLayers(_ tasks: [any CaptureTask], parentLayers: [LayerKind: StoredLayer]) -> [LayerKind: OCIDescriptor] {
        var reusing: [LayerKind: OCIDescriptor] = [:]
        for task in tasks where task.layerUnchanged {
            let kind = task.plugin.kind
            guard let stored = parentLayers[kind], let config = stored.config, let stamp = stored.stamp,
                  let reference = try? CanonicalJSON.encode(task.plugin.reference),
                  stored.json[stamp].elementsEqual(reference) else { continue }
            reusing[kind] = config
        }
        return reusing
    }

    /// The manifest of five captured layers, each stamped with the plugin that captured it.
    static func assemble(_ layers: [LayerKind: CapturedLayer], plugins: [LayerKind: LoadedPlugin], agent: Agent,
                         createdAt: String, parents: [Digest]) -> Manifest {
        func stamped<Content>(_ kind: LayerKind, _ pick: (CapturedLayer) -> Layer<Content>?) -> Layer<Content> {
            var layer = pick(layers[kind]!)!
            layer.plugin = plugins[kind]!.reference
            return layer
        }
        return Manifest(
            agent: agent,
            model: stamped(.model) { if case .model(let layer) = $0 { layer } else { nil } },
            cache: stamped(.cache) { if case .cache(let layer) = $0 { layer } else { nil } },
            world: stamped(.world) { if case .world(let layer) = $0 { layer } else { nil } },
            effects: stamped(.effects) { if case .effects(let layer) = $0 { layer } else { nil } },
            trace: stamped(.trace) { if case .trace(let layer) = $0 { layer } else { nil } },
            createdAt: createdAt, parents: parents)
    }
}
