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
/// mutex or atomic. Strings handed to the plugin (config values, the parent layer) are
/// allocated once here and stay valid until the context is released after capture returns.
final class CaptureContext {
    let plugin: LoadedPlugin
    let store: SnapshotStore
    let logger: Logger
    let onProgress: (@Sendable (LayerKind, UInt64, UInt64) -> Void)?

    private let configValues: [String: UnsafeMutablePointer<CChar>]
    private let parentLayer: UnsafeMutablePointer<CChar>?
    private let parentLayerLength: Int
    private let cancelledFlag = Atomic<Bool>(false)
    private let state = Mutex(State())

    struct State {
        var layer: CapturedLayer?
        var setLayerCalls = 0
        /// A breach of the protocol that fails the capture whatever it returns.
        var violation: String?
        var pluginError: String?
        var lastHostError: String?
        var openWriters: [ObjectIdentifier: BlobWriterBox] = [:]
        var blobsWritten = 0
    }

    init(plugin: LoadedPlugin, store: SnapshotStore, config: [String: String], parentLayer: [UInt8]?,
         logger: Logger, onProgress: (@Sendable (LayerKind, UInt64, UInt64) -> Void)?) {
        self.plugin = plugin
        self.store = store
        self.logger = logger
        self.onProgress = onProgress
        configValues = config.mapValues { strdup($0)! }
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

    /// The `pf_ctx *` the plugin sees.
    var opaque: OpaquePointer { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }

    static func from(_ context: OpaquePointer?) -> CaptureContext? {
        guard let context else { return nil }
        return Unmanaged<CaptureContext>.fromOpaque(UnsafeRawPointer(context)).takeUnretainedValue()
    }

    // MARK: Services

    func config(_ key: String) -> UnsafePointer<CChar>? {
        configValues[key].map { UnsafePointer($0) }
    }

    func parent(length: UnsafeMutablePointer<Int>?) -> UnsafePointer<CChar>? {
        length?.pointee = parentLayerLength
        return parentLayer.map { UnsafePointer($0) }
    }

    var isCancelled: Bool { cancelledFlag.load(ordering: .acquiring) }

    func cancel() { cancelledFlag.store(true, ordering: .releasing) }

    /// Runs a store operation for the plugin, turning its outcome into a `PF_*` code.
    func storing(_ what: String, _ body: () throws(StoreError) -> BlobRef, into digestOut: UnsafeMutablePointer<CChar>?,
                 size sizeOut: UnsafeMutablePointer<UInt64>? = nil) -> Int32 {
        guard !isCancelled else { return Int32(PF_ERR_CANCELLED) }
        do {
            let blob = try body()
            writeDigest(blob.digest, into: digestOut)
            sizeOut?.pointee = UInt64(blob.size)
            state.withLock { $0.blobsWritten += 1 }
            return Int32(PF_OK)
        } catch {
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

    func openWriter() -> Result<BlobWriterBox, StoreError> {
        Result { () throws(StoreError) in
            let box = BlobWriterBox(writer: try store.makeWriter(), context: self)
            state.withLock { $0.openWriters[ObjectIdentifier(box)] = box }
            return box
        }
    }

    func closeWriter(_ box: BlobWriterBox) {
        state.withLock { _ = $0.openWriters.removeValue(forKey: ObjectIdentifier(box)) }
    }

    func recordStoreError(_ message: String) {
        state.withLock { $0.lastHostError = message }
        logger.error("\(message)", metadata: ["plugin": "\(plugin.file)"])
    }

    func setLayer(_ bytes: [UInt8]) -> Int32 {
        let calls = state.withLock { state in
            state.setLayerCalls += 1
            return state.setLayerCalls
        }
        guard calls == 1 else {
            state.withLock { $0.violation = "called set_layer \(calls) times; it must be called exactly once" }
            return Int32(PF_ERR_INVALID)
        }
        do {
            let layer = try LayerValidator.validate(bytes, kind: plugin.kind, store: store)
            state.withLock { $0.layer = layer }
            return Int32(PF_OK)
        } catch {
            state.withLock { $0.violation = error.description }
            return Int32(PF_ERR_INVALID)
        }
    }

    func setError(_ message: String) {
        state.withLock { $0.pluginError = message }
    }

    func log(level: Int32, _ message: String) {
        let logLevel: Logger.Level = switch level {
        case Int32(PF_LOG_DEBUG): .debug
        case Int32(PF_LOG_INFO): .info
        case Int32(PF_LOG_WARN): .warning
        default: .error
        }
        logger.log(level: logLevel, "\(message)", metadata: ["plugin": "\(plugin.id)"])
    }

    func progress(done: UInt64, total: UInt64) {
        onProgress?(plugin.kind, done, total)
    }

    // MARK: Outcome

    /// What the capture produced, once `capture` has returned `code`. Aborts writers the
    /// plugin left open.
    func finish(returnCode code: Int32) -> Result<CapturedLayer, CaptureFailure> {
        let final = state.withLock { state in
            let writers = Array(state.openWriters.values)
            state.openWriters = [:]
            return (state, writers)
        }
        for box in final.1 { box.writer.abort() }
        let state = final.0
        func failure(_ message: String) -> Result<CapturedLayer, CaptureFailure> {
            .failure(CaptureFailure(plugin: plugin, message: message))
        }
        if code != Int32(PF_OK) {
            let name = Self.codeName(code)
            let reason = state.pluginError ?? state.violation ?? state.lastHostError.map { "(host) \($0)" } ?? "no message"
            return failure("capture returned \(name): \(reason)")
        }
        if let violation = state.violation { return failure(violation) }
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
