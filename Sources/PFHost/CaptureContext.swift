import CPFPluginABI
import Logging
import PFModel
import PFStore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What stands behind one `pf_ctx *`: the state of one plugin's capture.
///
/// Host services reach it from any thread the plugin uses, so everything mutable is behind a
/// mutex or atomic (hence `@unchecked Sendable`: the C strings below are written once, in `init`).
/// Strings handed to the plugin (config values, the parent layer) are allocated once here and stay
/// valid until the context is released after capture returns. The plugin never holds this object's
/// address: its `pf_ctx *` is a handle from ``HostHandles/contexts``, retired when capture returns.
final class CaptureContext: @unchecked Sendable {
    let plugin: LoadedPlugin
    let store: SnapshotStore
    let logger: Logger
    let onProgress: (@Sendable (LayerKind, UInt64, UInt64) -> Void)?
    /// Told of the bytes the host moves for this layer (stored, or during a restore handed to the plugin).
    let onBytes: (@Sendable (LayerKind, UInt64) -> Void)?

    private let configValues: [String: UnsafeMutablePointer<CChar>]
    private let parentLayer: UnsafeMutablePointer<CChar>?
    private let parentLayerLength: Int
    /// The host's own copy of the parent's layer (the plugin may scribble on the one it is handed).
    private let parentLayerBytes: [UInt8]?
    private let cancelledFlag = Atomic<Bool>(false)
    /// Set by ``cancelAfterFirstServiceCall()``: the next service call answered cancels the capture.
    private let cancelOnService = Atomic<Bool>(false)
    private let state = Mutex(State())

    struct State {
        var layer: CapturedLayer?
        /// The bytes of the accepted layer, as the plugin passed them.
        var layerJSON: [UInt8]?
        /// Whether the accepted layer is the parent's layer it was given, unstamped.
        var unchanged = false
        /// Why the layer refused, the parent's layer handed back unchanged, does not check out.
        var parentLayerDamage: String?
        /// The blob at fault in ``parentLayerDamage``.
        var damagedBlob: Digest?
        /// Whether `set_layer` refused the layer handed to it.
        var layerRefused = false
        var setLayerCalls = 0
        /// A breach of the protocol that fails the capture whatever it returns.
        var violation: String?
        var pluginError: String?
        var lastHostError: String?
        /// Writers not yet committed or aborted, by their handle's bits.
        var openWriters: [UInt: BlobWriterBox] = [:]
        var blobsWritten = 0
        /// Set by ``finish(returnCode:)``: no writer may be opened after it.
        var finished = false
        /// The keys the plugin asked `config` for.
        var keysRead = Set<String>()
    }

    init(plugin: LoadedPlugin, store: SnapshotStore, config: [String: String], parentLayer: [UInt8]?,
         logger: Logger, onProgress: (@Sendable (LayerKind, UInt64, UInt64) -> Void)?,
         onBytes: (@Sendable (LayerKind, UInt64) -> Void)? = nil) {
        self.plugin = plugin
        self.store = store
        self.logger = logger
        self.onProgress = onProgress
        self.onBytes = onBytes
        configValues = config.mapValues { strdup($0)! }
        parentLayerBytes = parentLayer
        if let parentLayer {
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: parentLayer.count + 1)
            for (offset, byte) in parentLayer.enumerated() { buffer[offset] = CChar(bitPattern: byte) }
            buffer[parentLayer.count] = 0
            self.parentLayer = buffer
            parentLayerLength = parentLayer.count
        } else {
            self.parentLayer = nil
            parentLayerLength = 0
        }
    }

    deinit {
        for value in configValues.values { free(value) }
        parentLayer?.deallocate()
    }

    // MARK: Services

    func config(_ key: String) -> UnsafePointer<CChar>? {
        defer { served() }
        _ = state.withLock { $0.keysRead.insert(key) }
        return configValues[key].map { UnsafePointer($0) }
    }

    func parent(length: UnsafeMutablePointer<Int>?) -> UnsafePointer<CChar>? {
        defer { served() }
        length?.pointee = parentLayerLength
        return parentLayer.map { UnsafePointer($0) }
    }

    var isCancelled: Bool {
        defer { served() }
        return cancelledFlag.load(ordering: .acquiring)
    }

    func cancel() { cancelledFlag.store(true, ordering: .releasing) }

    /// Cancels the capture once the plugin's next host service call (`config`, `parent_layer`,
    /// `cancelled`, a blob service, `set_error`, `log` or `progress`) has been answered: `pfhost
    /// check-plugin` cancels a capture that is running, not one that sees it at its first look.
    func cancelAfterFirstServiceCall() { cancelOnService.store(true, ordering: .releasing) }

    /// Called as each service call returns its answer.
    private func served() {
        guard cancelOnService.load(ordering: .acquiring) else { return }
        if cancelOnService.exchange(false, ordering: .acquiringAndReleasing) { cancel() }
    }

    /// Runs a store operation for the plugin, turning its outcome into a `PF_*` code. The blob's
    /// size goes to `onBytes` unless `counted` already (a writer's bytes are counted as written).
    func storing(_ what: String, _ body: () throws(StoreError) -> BlobRef, into digestOut: UnsafeMutablePointer<CChar>?,
                 size sizeOut: UnsafeMutablePointer<UInt64>? = nil, counted: Bool = false) -> Int32 {
        guard !isCancelled else { return Int32(PF_ERR_CANCELLED) }
        do {
            let blob = try body()
            writeDigest(blob.digest, into: digestOut)
            sizeOut?.pointee = UInt64(blob.size)
            state.withLock { $0.blobsWritten += 1 }
            if !counted { onBytes?(plugin.kind, UInt64(clamping: blob.size)) }
            return Int32(PF_OK)
        } catch {
            // Cut short because the host cancelled the capture: that is the answer, not a store failure.
            if isCancelled { return Int32(PF_ERR_CANCELLED) }
            let message = "\(what): \(error)"
            state.withLock { $0.lastHostError = message }
            logger.error("\(message)", metadata: ["plugin": "\(plugin.file)"])
            return Int32(PF_ERR_IO)
        }
    }

    func writeDigest(_ digest: Digest, into out: UnsafeMutablePointer<CChar>?) {
        guard let out else { return }
        let text = Array(digest.description.utf8CString)
        precondition(text.count == Int(PF_DIGEST_STRLEN))
        text.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: text.count) }
    }

    /// A new writer and its `pf_blob_writer *` handle; nil once the capture has finished.
    func openWriter() -> Result<OpaquePointer, StoreError>? {
        let writer: BlobWriter
        do { writer = try store.makeWriter() } catch { return .failure(error) }
        let box = BlobWriterBox(writer: writer, context: self)
        let handle = state.withLock { state -> OpaquePointer? in
            guard !state.finished else { return nil }
            let handle = HostHandles.writers.register(box)
            state.openWriters[UInt(bitPattern: handle)] = box
            return handle
        }
        guard let handle else {
            box.abort()
            return nil
        }
        return .success(handle)
    }

    /// Forgets the writer behind `handle` (committed or aborted by the plugin).
    func closeWriter(_ handle: OpaquePointer) {
        state.withLock { _ = $0.openWriters.removeValue(forKey: UInt(bitPattern: handle)) }
    }

    func recordStoreError(_ message: String) {
        state.withLock { $0.lastHostError = message }
        logger.error("\(message)", metadata: ["plugin": "\(plugin.file)"])
    }

    /// The largest layer JSON `set_layer` takes: a layer describes its content, which goes in blobs
    /// (the reference layers are a few KiB; a million-entry world tree is one blob of its own).
    static let maximumLayerBytes = SnapshotStore.maximumLayerBytes

    /// Refuses a layer of `length` bytes, over ``maximumLayerBytes``, without reading it.
    func refuseLayer(length: Int) -> Int32 {
        state.withLock { state in
            state.setLayerCalls += 1
            state.violation = "called set_layer with \(length) bytes; a layer is at most \(Self.maximumLayerBytes >> 20) MiB of JSON (put large content in blobs and list them)"
        }
        return Int32(PF_ERR_INVALID)
    }

    func setLayer(_ bytes: [UInt8]) -> Int32 {
        guard bytes.count <= Self.maximumLayerBytes else { return refuseLayer(length: bytes.count) }
        let calls = state.withLock { state in
            state.setLayerCalls += 1
            return state.setLayerCalls
        }
        guard calls == 1 else {
            state.withLock { $0.violation = "called set_layer \(calls) times; it must be called exactly once" }
            return Int32(PF_ERR_INVALID)
        }
        do {
            let (layer, unchanged) = try LayerValidator.validate(bytes, kind: plugin.kind, store: store, parentLayer: parentLayerBytes)
            state.withLock { state in
                state.layer = layer
                state.layerJSON = bytes
                state.unchanged = unchanged
            }
            return Int32(PF_OK)
        } catch {
            state.withLock { state in
                state.violation = error.description
                state.layerRefused = true
                if error.inParentLayer {
                    state.parentLayerDamage = error.description
                    state.damagedBlob = error.blob
                }
            }
            return Int32(PF_ERR_INVALID)
        }
    }

    func setError(_ message: String) {
        defer { served() }
        let message = DisplayText.escaped(message)
        state.withLock { $0.pluginError = message }
    }

    func log(level: Int32, _ message: String) {
        let logLevel: Logger.Level = switch level {
        case Int32(PF_LOG_DEBUG): .debug
        case Int32(PF_LOG_INFO): .info
        case Int32(PF_LOG_WARN): .warning
        default: .error
        }
        logger.log(level: logLevel, "\(DisplayText.escaped(message))", metadata: ["plugin": "\(plugin.id)"])
        served()
    }

    func progress(done: UInt64, total: UInt64) {
        onProgress?(plugin.kind, done, total)
        served()
    }

    // MARK: Outcome

    /// Warns of the keys the plugin was given and never asked for, when it declares no settings
    /// (ABI 1.0: its keys cannot be checked before it runs, and one it never asked for is most
    /// likely a typo). Called once the capture has finished and the plugin set is known to be
    /// sound: a capture of a set that is refused reports nothing of its own.
    func warnOfUnreadKeys() {
        guard plugin.settings == nil else { return }
        let unread = unreadKeys
        guard !unread.isEmpty else { return }
        logger.warning("\(unread.map { "\(plugin.kind).\($0)" }.joined(separator: ", ")) set but never read by plugin \(plugin.label), which declares no settings: a typo? (a plugin of ABI 1.1 can declare its settings, and pfhost then refuses unknown keys)")
    }

    /// The keys it was given (`--set`, the config file) that the plugin never asked for.
    var unreadKeys: [String] {
        state.withLock { Set(configValues.keys).subtracting($0.keysRead).sorted() }
    }

    /// The layer JSON the plugin passed to a successful `set_layer`, byte for byte.
    var layerJSON: [UInt8]? { state.withLock { $0.layerJSON } }

    /// Whether the layer accepted by `set_layer` is the parent's layer the plugin was given, unstamped.
    var layerUnchanged: Bool { state.withLock { $0.unchanged } }

    /// What the capture produced, once `capture` has returned `code` (and its `pf_ctx *` was
    /// retired). Retires and aborts the writers the plugin left open; no writer opens after this.
    func finish(returnCode code: Int32) -> Result<CapturedLayer, CaptureFailure> {
        let final = state.withLock { state in
            state.finished = true
            let writers = state.openWriters
            state.openWriters = [:]
            return (state, writers)
        }
        for (bits, box) in final.1 {
            HostHandles.writers.retire(OpaquePointer(bitPattern: bits)!, owner: plugin.label, logger: logger)
            box.abort()
        }
        let state = final.0
        func failure(_ message: String) -> Result<CapturedLayer, CaptureFailure> {
            .failure(CaptureFailure(plugin: plugin, message: message, parentLayerDamage: state.parentLayerDamage,
                                    damagedBlob: state.damagedBlob, layerRefused: state.layerRefused))
        }
        if code != Int32(PF_OK) {
            let name = Self.codeName(code)
            // The host's own finding (a refused layer) is more precise than what the plugin said of it.
            guard let reason = state.violation ?? state.pluginError ?? state.lastHostError.map({ "(host) \($0)" }) else {
                // Cancelled, and saying no more: the reason is the cancellation's.
                if code == Int32(PF_ERR_CANCELLED) && isCancelled { return failure("capture returned \(name)") }
                return failure("capture returned \(name): no message")
            }
            return failure("capture returned \(name): \(reason)")
        }
        if let violation = state.violation { return failure(violation) }
        if let message = state.pluginError {
            return failure("capture returned PF_OK after set_error(\"\(message)\"): a capture that fails returns a negative PF_ERR_* code, one that succeeds calls no set_error")
        }
        guard let layer = state.layer else { return failure("capture returned PF_OK without calling set_layer") }
        return .success(layer)
    }

    /// The message the plugin gave with `set_error`, if any.
    var pluginError: String? { state.withLock { $0.pluginError } }

    static func codeName(_ code: Int32) -> String {
        switch code {
        case Int32(PF_OK): "PF_OK"
        case Int32(PF_ERR_INVALID): "PF_ERR_INVALID"
        case Int32(PF_ERR_IO): "PF_ERR_IO"
        case Int32(PF_ERR_CANCELLED): "PF_ERR_CANCELLED"
        case Int32(PF_ERR_UNSUPPORTED): "PF_ERR_UNSUPPORTED"
        case Int32(PF_ERR_INTERNAL): "PF_ERR_INTERNAL"
        default: "unknown code \(code)"
        }
    }
}
