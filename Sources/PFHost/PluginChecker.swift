import CPFPluginABI
import Dispatch
import Logging
import PFModel
import PFStore
import PFSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `pfhost check-plugin`: a conformance run of one plugin, alone, against a scratch store (in the
/// spirit of clap-validator). It never needs plugins for the other four kinds.
///
/// It runs the checks of ``PluginCheck/all`` in order, in this process, reporting each as it ends;
/// a check whose prerequisite failed is skipped. `pfhost check-plugin` runs it in a worker process of
/// its own, so a plugin that crashes fails the check it was in instead of crashing the checker.
///
/// ```swift
/// let checker = PluginChecker(file: "libexample-trace.so", settings: ["path=conv.jsonl"])
/// checker.run(begin: { _ in }) { check in print(check.status, check.name, check.detail) }
/// ```
public final class PluginChecker: Sendable {
    let file: String
    let settings: [String]
    let configFile: String?
    let allowInsecurePlugins: Bool
    let scratch: String?
    let logger: Logger
    /// How long a cancelled capture may take to return, counted from its start.
    public static let cancellationBound: Duration = .seconds(2)
    /// When a capture that makes no host service call is cancelled in `cancellation`.
    static let cancellationDelay: Duration = .milliseconds(100)
    /// The captures after the first that `determinism` compares with it.
    static let repeatedCaptures = ["second", "third"]
    /// How long any other capture or restore may take.
    public static let captureTimeout: Duration = .seconds(120)
    /// Threads calling host services beside the capture in `concurrent-services`.
    static let stressThreads = 4

    /// - Parameters:
    ///   - settings: `KEY=VALUE` (the plugin's kind is implied) or `KIND.KEY=VALUE`, applied after `configFile`.
    ///   - configFile: a pfhost config file; the section of the plugin's kind is used.
    ///   - scratch: an empty directory for the scratch store and restore, which the caller removes;
    ///     nil: one of ``makeScratch()``, removed when ``run(begin:report:)`` returns.
    public init(file: String, settings: [String] = [], configFile: String? = nil, allowInsecurePlugins: Bool = false,
                scratch: String? = nil, logger: Logger = Logger(label: "pfhost")) {
        self.file = file
        self.settings = settings
        self.configFile = configFile
        self.allowInsecurePlugins = allowInsecurePlugins
        self.scratch = scratch
        self.logger = logger
    }

    /// Thrown inside ``run(begin:report:)`` to end the run after a check that later ones depend on.
    private struct Stop: Error {}

    /// A new empty directory for a run: `$TMPDIR/pfhost-check-XXXXXX` (`/tmp` without `TMPDIR`).
    public static func makeScratch() throws(SystemCallError) -> String {
        let base = SystemCalls.environment("TMPDIR") ?? "/tmp"
        return try SystemCalls().makeTemporaryDirectory(prefix: (base.hasSuffix("/") ? base : base + "/") + "pfhost-check-")
    }

    /// Runs every check, calling `begin` with a check's name before it starts and `report` when it
    /// ends. Returns when all have run or one ended the run (the rest are reported skipped).
    ///
    /// - Returns: nil, or why the run was refused as a usage error (a `--set` for a layer of
    ///   another kind than the plugin's): `pfhost check-plugin` then exits 78.
    @discardableResult
    public func run(begin: (String) -> Void, report: (PluginCheck) -> Void) -> String? {
        var remaining = PluginCheck.all.map(\.name)
        func emit(_ check: PluginCheck) {
            remaining.removeAll { $0 == check.name }
            report(check)
        }
        var made: String?
        defer { if let made { try? SystemCalls().removeTree(made) } }
        var refusal: String?
        do {
            let directory: String
            if let scratch { directory = scratch } else { directory = try Self.makeScratch(); made = directory }
            try checks(scratch: directory, refusal: &refusal, begin: begin, emit: emit)
        } catch is Stop {
        } catch {
            emit(PluginCheck(remaining.first ?? "capture", .fail, "the checker could not run: \(error)"))
        }
        for name in remaining { report(PluginCheck(name, .skip, "not run: an earlier check it needs failed")) }
        return refusal
    }

    private func checks(scratch: String, refusal: inout String?, begin: (String) -> Void, emit: (PluginCheck) -> Void) throws {
        func fail(_ name: String, _ detail: String) throws -> Never {
            emit(PluginCheck(name, .fail, detail))
            throw Stop()
        }

        begin("exports")
        let exported: [String]
        do { exported = try Self.exports(of: file) } catch { try fail("exports", "\(error)") }
        guard exported.contains(PluginABI.entrySymbol) else {
            try fail("exports", "does not export \(PluginABI.entrySymbol): not a plugin (build it against plugin-sdk/include/pf_plugin.h)")
        }
        let extra = exported.filter { $0 != PluginABI.entrySymbol }.sorted()
        if extra.isEmpty {
            emit(PluginCheck("exports", .pass, "\(PluginABI.entrySymbol) and nothing else"))
        } else {
            emit(PluginCheck("exports", .warn, "also exports \(extra.count) other symbol\(extra.count == 1 ? "" : "s") (\(extra.prefix(5).joined(separator: ", "))\(extra.count > 5 ? ", …" : "")): build with -fvisibility=hidden or a version script (plugin-sdk/exports.map) so only \(PluginABI.entrySymbol) is"))
        }

        begin("loads")
        let plugin: LoadedPlugin
        do { plugin = try PluginLoader.load(file, allowInsecurePlugins: allowInsecurePlugins) } catch {
            try fail("loads", error.reason)
        }
        let restore = plugin.restoreRefusal.map { "cannot restore: \($0)" } ?? "can restore"
        emit(PluginCheck("loads", .pass, "\(plugin.id) \(plugin.version), \(plugin.kind) layer, ABI \(plugin.abiMajor).\(plugin.abiMinor), \(restore)\(plugin.buildIdentity.map { ", built with \($0)" } ?? "")"))

        begin("settings")
        if let wrongKind = settingOfAnotherKind(plugin) {
            refusal = wrongKind
            try fail("settings", wrongKind)
        }
        let config: [String: String]
        do { config = try configuration(for: plugin) } catch { try fail("settings", "\(error)") }
        if let declared = plugin.settings {
            emit(PluginCheck("settings", .pass, "\(declared.count) declared (\(declared.map(\.key).joined(separator: ", "))); \(config.count) with a value"))
        } else {
            emit(PluginCheck("settings", .warn, "declares none (every \(plugin.kind).KEY is passed unchecked, typos included): declare them in pf_plugin.settings (ABI 1.1)"))
        }

        let store: SnapshotStore
        do { store = try SnapshotStore.openOrCreate(at: scratch + "/store", durability: .none) } catch {
            try fail("capture", "cannot create the scratch store: \(error)")
        }

        // Whatever a capture opens and leaves open is counted against the count before the first one,
        // taken once Dispatch has opened what it keeps (its timer, epoll and event descriptors)
        // and the store its write lease on ingest/gc.lock, held for the store object's life.
        Self.startDispatchTimers()
        try? store.acquireLease()
        let descriptorsAtStart = Self.openDescriptors()
        var descriptorsAfter: [Int] = []

        begin("capture")
        let first = capture(plugin, store: store, config: config)
        descriptorsAfter.append(Self.openDescriptors())
        guard case .finished(.success(let layer), let json?, let milliseconds) = first else {
            try fail("capture", first.failure)
        }
        emit(PluginCheck("capture", .pass, "PF_OK in \(milliseconds) ms, \(layer.blobs.count) blob\(layer.blobs.count == 1 ? "" : "s")"))

        begin("schema")
        let schema = "layer-\(plugin.kind.rawValue).schema.json"
        let value: JSONValue
        do {
            value = try JSONParser.parse(json)
            try LayerValidator.published.get().validate(value, against: schema)
            emit(PluginCheck("schema", .pass, "valid against plugin-sdk/schema/\(schema)"))
        } catch {
            try fail("schema", "plugin-sdk/schema/\(schema): \(error)")
        }

        begin("blobs")
        var missing: [String] = []
        for blob in layer.blobs {
            let size = try? store.size(of: blob.digest)
            if size != blob.size { missing.append("\(blob.digest) (\(size.map { "\($0) bytes stored" } ?? "missing"), \(blob.size) listed)") }
        }
        if missing.isEmpty {
            emit(PluginCheck("blobs", .pass, "\(layer.blobs.count) listed, each present with its size"))
        } else {
            emit(PluginCheck("blobs", .fail, "listed but not stored with that size: \(missing.joined(separator: ", "))"))
        }

        begin("determinism")
        // Every later capture is compared with the first: a plugin that differs only sometimes is caught
        // by the capture it differs on, and blamed here, not on the checks that follow.
        let parent = Self.parentLayer(value, plugin: plugin)
        // The parent's layer handed back as given (stamp included) is the same layer: set_layer takes it so.
        let stamped = try? JSONParser.parse(parent)
        func isFirstLayer(_ other: JSONValue?) -> Bool { other == value || other == stamped }
        let blobsBefore = Self.blobCount(store)
        var differing: String?
        for ordinal in Self.repeatedCaptures {
            let again = capture(plugin, store: store, config: config, parent: parent)
            descriptorsAfter.append(Self.openDescriptors())
            guard case .finished(.success, let againJSON?, _) = again else { try fail("determinism", "the \(ordinal) capture: \(again.failure)") }
            let againValue = try? JSONParser.parse(againJSON)
            if differing == nil, !isFirstLayer(againValue) {
                differing = "the \(ordinal) capture of unchanged input gave another layer than the first: \(Self.difference(value, againValue ?? .null))"
            }
        }
        let blobsAfter = Self.blobCount(store)
        let later = Self.repeatedCaptures.joined(separator: " and ")
        if let differing {
            emit(PluginCheck("determinism", .fail, differing))
        } else {
            emit(PluginCheck("determinism", .pass, "the \(later) captures gave the same layer as the first"))
        }

        begin("parent-reuse")
        if blobsAfter == blobsBefore {
            emit(PluginCheck("parent-reuse", .pass, "the \(later) captures, given the first as parent, stored no new blob"))
        } else {
            emit(PluginCheck("parent-reuse", .fail, "the \(later) captures, given the first as parent, stored \(blobsAfter - blobsBefore) new blob file(s) for unchanged input"))
        }

        begin("descriptors")
        let counts = descriptorsAfter.map(String.init).joined(separator: ", ")
        if let most = descriptorsAfter.max(), most > descriptorsAtStart {
            let leaking = descriptorsAfter.indices.filter { descriptorsAfter[$0] > descriptorsAtStart }.map { String($0 + 1) }
            emit(PluginCheck("descriptors", .fail, "\(most - descriptorsAtStart) file descriptor(s) left open by the captures (\(descriptorsAtStart) open before the first, \(counts) after each; more than before after capture \(leaking.joined(separator: ", "))): close what you open, on every path"))
        } else {
            emit(PluginCheck("descriptors", .pass, "\(descriptorsAtStart) open before the first capture, \(counts) after each of the \(descriptorsAfter.count)"))
        }

        begin("concurrent-services")
        if differing != nil {
            emit(PluginCheck("concurrent-services", .skip, "not run: the layer differs without concurrent calls already (see determinism)"))
        } else {
            let stressed = underStress(store: store, plugin: plugin, config: config) {
                capture(plugin, store: store, config: config, parent: parent)
            }
            guard case .finished(.success, let stressedJSON?, _) = stressed.outcome else {
                try fail("concurrent-services", "the capture under stress: \(stressed.outcome.failure)")
            }
            if isFirstLayer(try? JSONParser.parse(stressedJSON)) {
                emit(PluginCheck("concurrent-services", .pass, "same layer while \(Self.stressThreads) threads made \(stressed.calls) host service calls"))
            } else {
                emit(PluginCheck("concurrent-services", .fail, "under concurrent host service calls the layer differs: \(Self.difference(value, (try? JSONParser.parse(stressedJSON)) ?? .null))"))
            }
        }

        begin("restore")
        if let refusal = plugin.restoreRefusal {
            emit(PluginCheck("restore", .skip, "the plugin cannot restore: \(refusal)"))
        } else {
            let outcome = roundTrip(plugin, store: store, layer: layer, value: value, scratch: scratch)
            emit(outcome)
        }

        begin("cancellation")
        let bound = Self.cancellationBound.components.seconds
        let cancelled = capture(plugin, store: store, config: config, parent: parent, cancelled: true, timeout: Self.cancellationBound)
        switch cancelled {
        case .hung:
            try fail("cancellation", "still running \(bound) s after the capture was cancelled (at its first host service call, or \(Self.cancellationDelay.saturatedMilliseconds) ms in if it made none): check host->cancelled(ctx) in every loop and return PF_ERR_CANCELLED")
        case .finished(let result, _, let took):
            let how = if case .failure(let failure) = result { failure.message } else { "PF_OK" }
            emit(PluginCheck("cancellation", .pass, "returned \(took) ms after it started, cancelled while running (bound \(bound) s): \(how)"))
        }
    }

    // MARK: Captures

    /// How one capture ended.
    enum Outcome {
        case finished(Result<CapturedLayer, CaptureFailure>, json: [UInt8]?, milliseconds: Int64)
        /// Still running at the deadline (the thread is left to it: this process ends soon).
        case hung(Duration)

        var failure: String {
            switch self {
            case .finished(.failure(let failure), _, _): failure.message
            case .finished: "no layer"
            case .hung(let timeout): "still running after \(timeout)"
            }
        }
    }

    private func capture(_ plugin: LoadedPlugin, store: SnapshotStore, config: [String: String], parent: [UInt8]? = nil,
                         cancelled: Bool = false, timeout: Duration = PluginChecker.captureTimeout) -> Outcome {
        let context = CaptureContext(plugin: plugin, store: store, config: config, parentLayer: parent, logger: logger, onProgress: nil)
        let task = InProcessCapture(context: context)
        // Cancelled while it runs: once its first host service call has been answered (so a plugin
        // that looks only at entry sees "not cancelled" there), or after a moment if it makes none.
        if cancelled { context.cancelAfterFirstServiceCall() }
        let done = DispatchSemaphore(value: 0)
        task.start { done.signal() }
        if cancelled, done.wait(timeout: .now() + Self.cancellationDelay.dispatchInterval) == .timedOut {
            task.cancel()
        } else if cancelled {
            done.signal()
        }
        guard done.wait(timeout: .now() + timeout.dispatchInterval) == .success, let outcome = task.outcome else {
            _ = task.abandon()
            return .hung(timeout)
        }
        return .finished(outcome.result, json: context.layerJSON, milliseconds: outcome.milliseconds)
    }

    /// Runs `body` while ``stressThreads`` threads call host services (put_blob, config, parent_layer,
    /// cancelled, progress) through contexts of their own, as other plugins' captures would.
    private func underStress(store: SnapshotStore, plugin: LoadedPlugin, config: [String: String],
                             _ body: () -> Outcome) -> (outcome: Outcome, calls: Int) {
        let stop = Atomic<Bool>(false)
        let calls = Atomic<Int>(0)
        let group = DispatchGroup()
        let warmed = DispatchSemaphore(value: 0)
        let logger = logger
        for thread in 0..<Self.stressThreads {
            group.enter()
            let started = DetachedThread.start {
                let context = CaptureContext(plugin: plugin, store: store, config: config, parentLayer: Array("{}".utf8),
                                             logger: logger, onProgress: nil)
                let handle = HostHandles.contexts.register(context)
                let host = HostServices.table
                var digest = [CChar](repeating: 0, count: Int(PF_DIGEST_STRLEN))
                var round = 0
                while !stop.load(ordering: .acquiring) {
                    var bytes = Array("pfhost check-plugin stress \(thread) \(round % 64)".utf8)
                    _ = host.pointee.put_blob(handle, "application/octet-stream", &bytes, bytes.count, &digest)
                    _ = host.pointee.config(handle, "path")
                    var length = 0
                    _ = host.pointee.parent_layer(handle, &length)
                    _ = host.pointee.cancelled(handle)
                    host.pointee.progress(handle, UInt64(round), 0)
                    calls.add(5, ordering: .relaxed)
                    round += 1
                    if round == 16 { warmed.signal() }
                }
                _ = HostHandles.contexts.retire(handle, owner: plugin.label, logger: logger)
                _ = context.finish(returnCode: Int32(PF_ERR_CANCELLED))
                group.leave()
            }
            if started != 0 {
                group.leave()
                warmed.signal()
            }
        }
        // The capture starts once every thread is calling services.
        for _ in 0..<Self.stressThreads { _ = warmed.wait(timeout: .now() + .seconds(10)) }
        let outcome = body()
        stop.store(true, ordering: .releasing)
        group.wait()
        return (outcome, calls.load(ordering: .acquiring))
    }

    /// Restores `layer` into a scratch TARGET, captures what was restored with the settings the
    /// restore recorded, and compares the blobs.
    private func roundTrip(_ plugin: LoadedPlugin, store: SnapshotStore, layer: CapturedLayer, value: JSONValue, scratch: String) -> PluginCheck {
        let kind = plugin.kind
        let restoredConfig: [String: String]
        do {
            let target = try RestoreTarget(scratch + "/restored", force: false, store: store.path)
            let directory = try target.makeLayerDirectory(kind)
            defer { close(directory) }
            let verifier = BlobVerifier(store: store, layers: [layer.blobs.map { BlobRef(digest: $0.digest, size: $0.size) }])
            let services = CaptureContext(plugin: plugin, store: store, config: [:], parentLayer: nil, logger: logger, onProgress: nil)
            let context = RestoreContext(kind: kind, plugin: plugin, services: services, directory: directory,
                                         layer: Self.parentLayer(value, plugin: plugin), blobs: layer.blobs, verifier: verifier, logger: logger)
            verifier.start()
            defer { verifier.stop() }
            guard case .success(let outcomes) = RestoreRunner(timeout: Self.captureTimeout, grace: .seconds(2)).run([context]) else {
                return PluginCheck("restore", .fail, "the restore was still running after \(Self.captureTimeout)")
            }
            let code = outcomes[0].returnCode
            _ = services.finish(returnCode: code)
            // Blobs over 16 MiB are hashed while the plugin copies them: wrong bytes show only now.
            try verifier.settle()
            guard code == Int32(PF_OK) else {
                target.discard()
                return PluginCheck("restore", .fail, "restore returned \(CaptureContext.codeName(code)): \(services.pluginError ?? "no message")")
            }
            try target.writeFile("pfhost.json", Restorer.configurationFile([kind.rawValue: context.snapshot.configuration]))
            try target.commit()
            let file = try SnapshotConfiguration.load(file: scratch + "/restored/pfhost.json")
            restoredConfig = try file.section(for: kind, plugin: plugin)
        } catch {
            return PluginCheck("restore", .fail, "\(error)")
        }
        // Captured as a user would capture the restored agent: from inside TARGET, with its
        // pfhost.json, so a default the plugin falls back to is looked for there, not here.
        let again: Outcome
        do { again = try inDirectory(scratch + "/restored") { capture(plugin, store: store, config: restoredConfig) } } catch {
            return PluginCheck("restore", .fail, "cannot capture from inside the restored directory: \(error)")
        }
        guard case .finished(.success(let restored), _, _) = again else {
            return PluginCheck("restore", .fail, "capturing the restored layer from inside the restored directory with the settings it recorded (\(restoredConfig.isEmpty ? "none" : restoredConfig.keys.sorted().joined(separator: ", "))): \(again.failure)")
        }
        let original = Set(layer.blobs.map(\.digest)), recaptured = Set(restored.blobs.map(\.digest))
        guard original == recaptured else {
            return PluginCheck("restore", .fail, "a capture of the restored layer has \(recaptured.subtracting(original).count) blob(s) the original lacks and lacks \(original.subtracting(recaptured).count) of its \(original.count)")
        }
        return PluginCheck("restore", .pass, "restored, then captured again with the settings it recorded: the same \(original.count) blob\(original.count == 1 ? "" : "s")")
    }

    /// Runs `body` with `directory` as the process's working directory, then returns to this one.
    private func inDirectory<T>(_ directory: String, _ body: () -> T) throws(SystemCallError) -> T {
        let system = SystemCalls()
        let here = try system.open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { try? system.close(here, path: ".") }
        try system.changeDirectory(directory)
        defer { try? system.changeDirectory(to: here, path: "the checker's working directory") }
        return body()
    }

    // MARK: The worker process

    /// Runs `executable` with `arguments` (a `check-plugin --worker`), its stdin `/dev/null`,
    /// handing each line it prints to `line`. Returns how it ended, or nil when it was still running
    /// after `timeout` and was killed.
    public static func runWorker(executable: String, arguments: [String], timeout: Duration,
                                 line: (ArraySlice<UInt8>) -> Void) throws(SystemCallError) -> ProcessEnd? {
        let system = SystemCalls()
        let output = try system.makePipe()
        let input: Int32
        do { input = try system.open("/dev/null", O_RDONLY) } catch {
            try? system.close(output.read, path: "a pipe")
            try? system.close(output.write, path: "a pipe")
            throw error
        }
        // No Swift backtrace for a plugin's crash: the checker reports the signal, and a backtracer
        // attached to a crashed worker can outlive it by minutes.
        let environment = PluginSet.childEnvironment().filter { !$0.hasPrefix("SWIFT_BACKTRACE=") } + ["SWIFT_BACKTRACE=enable=no"]
        let spawned = Result { () throws(SystemCallError) in
            try system.spawn(executable, arguments: arguments, environment: environment, standardInput: input, standardOutput: output.write)
        }
        try? system.close(output.write, path: "a pipe")
        try? system.close(input, path: "/dev/null")
        let pid: pid_t
        do { pid = try spawned.get() } catch {
            try? system.close(output.read, path: "a pipe")
            throw error
        }
        let timedOut = Atomic<Bool>(false)
        let finished = DispatchSemaphore(value: 0)
        let watchdog = DetachedThread.start {
            if finished.wait(timeout: .now() + timeout.dispatchInterval) == .timedOut {
                timedOut.store(true, ordering: .releasing)
                system.signalGroup(pid, SIGKILL)
            }
        }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = (try? chunk.withUnsafeMutableBytes { (raw) throws(SystemCallError) -> Int in
                try system.read(output.read, into: raw.baseAddress!, count: raw.count, path: "the worker's output")
            }) ?? 0
            guard count > 0 else { break }
            buffer += chunk[..<count]
            while let newline = buffer.firstIndex(of: 0x0a) {
                line(buffer[..<newline])
                buffer.removeSubrange(...newline)
            }
        }
        try? system.close(output.read, path: "a pipe")
        let end = try? system.waitForEnd(of: pid)
        system.reap(pid)
        if watchdog == 0 { finished.signal() }
        return timedOut.load(ordering: .acquiring) ? nil : end
    }

    // MARK: Helpers

    /// The configuration section the plugin gets: `configFile`'s section of its kind, then `settings`,
    /// checked against what it declares.
    private func configuration(for plugin: LoadedPlugin) throws(ConfigurationError) -> [String: String] {
        var configuration = SnapshotConfiguration()
        if let configFile { configuration = try SnapshotConfiguration.load(file: configFile) }
        for setting in settings {
            let name = setting.split(separator: "=", maxSplits: 1).first.map(String.init) ?? setting
            try configuration.apply(setting: name.contains(".") ? setting : "\(plugin.kind).\(setting)")
        }
        return try configuration.section(for: plugin.kind, plugin: plugin)
    }

    /// Why a `--set KIND.KEY=VALUE` names a layer of another kind than the plugin's, or nil: such a
    /// setting would reach no plugin, so it is refused rather than silently ignored.
    private func settingOfAnotherKind(_ plugin: LoadedPlugin) -> String? {
        for setting in settings {
            let name = setting.split(separator: "=", maxSplits: 1).first.map(String.init) ?? setting
            guard let dot = name.firstIndex(of: "."), let kind = LayerKind(rawValue: String(name[..<dot])), kind != plugin.kind else { continue }
            return "--set '\(DisplayText.escaped(setting))' is for the \(kind) layer, but \(file) captures the \(plugin.kind) layer: give \(plugin.kind).KEY=VALUE or KEY=VALUE"
        }
        return nil
    }

    /// The names `file` exports, read from its dynamic symbol table (nothing is loaded).
    static func exports(of file: String) throws -> [String] {
        let system = SystemCalls()
        let descriptor = try system.open(file, O_RDONLY)
        defer { try? system.close(descriptor, path: file) }
        let dynamic = try ELFDynamicSection(descriptor: descriptor, path: file, system: system)
        return try dynamic.exportedNames(descriptor: descriptor, path: file, system: system)
    }

    /// The layer as `parent_layer` gives it in a snapshot: with `plugin` filled, canonical JSON.
    static func parentLayer(_ value: JSONValue, plugin: LoadedPlugin) -> [UInt8] {
        var members = value.objectValue ?? [:]
        members["plugin"] = .object(["id": .string(plugin.id), "version": .string(plugin.version)])
        return CanonicalJSON.encode(.object(members))
    }

    static func blobCount(_ store: SnapshotStore) -> Int {
        (try? SystemCalls().listDirectory(store.path + "/blobs/sha256").count) ?? -1
    }

    /// Makes Dispatch open the descriptors its timer machinery keeps for the life of the process.
    static func startDispatchTimers() {
        // Dispatch's manager thread opens its timerfd when it first arms a timer, on its own thread
        // and in its own time; a timer already due when the manager looks (a short one on a busy
        // machine) fires without one. So: a timer that cannot be due, then wait (bounded) until the
        // descriptor is there. Without it the count before the first capture sometimes lacked the
        // timerfd that every count after had: a leak reported for a plugin that had none.
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(24 * 3600)) {}
        let system = SystemCalls()
        let clock = ContinuousClock()
        let start = clock.now
        while clock.now - start < .seconds(5) {
            let names = (try? system.listDirectory("/proc/self/fd")) ?? []
            if names.contains(where: { (try? system.readLink("/proc/self/fd/" + $0)) == Array("anon_inode:[timerfd]".utf8) }) { return }
            usleep(1000)
        }
    }

    static func openDescriptors() -> Int {
        return (try? SystemCalls().listDirectory("/proc/self/fd").count) ?? -1
    }

    /// Where two layers first differ, as `/pointer: A, not B`.
    static func difference(_ a: JSONValue, _ b: JSONValue, at pointer: String = "") -> String {
        switch (a, b) {
        case (.object(let left), .object(let right)):
            for key in Set(left.keys).union(right.keys).sorted() where left[key] != right[key] {
                return difference(left[key] ?? .null, right[key] ?? .null, at: pointer + "/" + key)
            }
        case (.array(let left), .array(let right)) where left.count == right.count:
            for (index, pair) in zip(left, right).enumerated() where pair.0 != pair.1 {
                return difference(pair.0, pair.1, at: pointer + "/\(index)")
            }
        default: break
        }
        return "\(pointer.isEmpty ? "/" : pointer): \(JSONSchemaValidator.show(b)), was \(JSONSchemaValidator.show(a))"
    }
}

