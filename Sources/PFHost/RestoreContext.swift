import CPFPluginABI
import Logging
import PFModel
import PFStore
import PFSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What stands behind one `pf_ctx *` during a restore: the layer being restored, the directory it
/// goes into, and what the plugin said (settings for `pfhost.json`, reports for the user).
///
/// The `pf_ctx *` a restoring plugin gets is that of a ``CaptureContext`` (``services``), so the
/// services restore shares with capture (`config`, `log`, `set_error`, `progress`, `cancelled`)
/// work unchanged; the restore services find this object from it through a registry of the
/// restores running (``from(_:)``). A capture's context is not in the registry, so during a
/// capture the restore services answer `PF_ERR_UNSUPPORTED`.
///
/// `@unchecked Sendable`: what is mutable is behind a mutex; the rest is immutable, and the
/// directory descriptor is used only with `*at` calls, which are thread-safe.
final class RestoreContext: @unchecked Sendable {
    /// The layer's kind.
    let kind: LayerKind
    /// The plugin restoring it.
    let plugin: LoadedPlugin
    /// The context whose pointer the plugin gets: configuration, errors, logs, cancellation.
    let services: CaptureContext
    /// `TARGET/<kind>/` (in the restore's temporary sibling), held open; everything the plugin
    /// creates is created beneath it.
    let directory: Int32
    /// The layer's blobs and their sizes: the only blobs `open_blob` opens.
    let blobs: [Digest: Int64]
    let verifier: BlobVerifier
    let logger: Logger
    /// The layer JSON handed to `restore`, NUL-terminated.
    let layerJSON: UnsafeMutablePointer<CChar>
    let layerJSONLength: Int
    /// Restore setuid and setgid bits as recorded (`--keep-setid`); else files get them cleared.
    let keepSetID: Bool

    struct State {
        /// The settings for this kind's section of `pfhost.json`, as written there.
        var configuration: [String: String] = [:]
        /// Facts for the user, in the order reported (a key reported again keeps its place).
        var reports: [(key: String, value: String)] = []
        /// The last failure of a host service, for the error message.
        var hostError: String?
        /// A blob that could not be read or was damaged.
        var storeError: StoreError?
        var blobsOpened = 0
        var bytesOpened: Int64 = 0
        /// Entries whose setuid or setgid bits were left out, and the first of them.
        var setIDDropped = 0
        var firstSetIDDropped: String?
    }
    private let state = Mutex(State())
    private let system = SystemCalls()

    init(kind: LayerKind, plugin: LoadedPlugin, services: CaptureContext, directory: Int32, layer: [UInt8],
         blobs: [Descriptor], verifier: BlobVerifier, keepSetID: Bool = false, logger: Logger) {
        self.kind = kind
        self.plugin = plugin
        self.services = services
        self.directory = directory
        self.verifier = verifier
        self.keepSetID = keepSetID
        self.logger = logger
        var sizes: [Digest: Int64] = [:]
        for blob in blobs { sizes[blob.digest] = blob.size }
        self.blobs = sizes
        layerJSON = .allocate(capacity: layer.count + 1)
        for (offset, byte) in layer.enumerated() { layerJSON[offset] = CChar(bitPattern: byte) }
        layerJSON[layer.count] = 0
        layerJSONLength = layer.count
    }

    deinit { layerJSON.deallocate() }

    // MARK: The registry

    private static let running = Mutex<[UInt: RestoreContext]>([:])

    /// The `pf_ctx *` the plugin gets: a checked handle of the capture services' context
    /// (``HostHandles``), registered by ``register()``.
    private(set) var handle: OpaquePointer?

    /// Makes the host services, and the restore services, answer for a new `pf_ctx *` handle.
    func register() {
        let handle = HostHandles.contexts.register(services)
        self.handle = handle
        Self.running.withLock { $0[UInt(bitPattern: UnsafeRawPointer(handle))] = self }
    }

    /// Ends that, once `restore` has returned: a later call through the handle is refused.
    func unregister() {
        guard let handle else { return }
        _ = Self.running.withLock { $0.removeValue(forKey: UInt(bitPattern: UnsafeRawPointer(handle))) }
        HostHandles.contexts.retire(handle, owner: plugin.label, logger: logger)
        self.handle = nil
    }

    /// The restore behind `context`, or nil (a capture's context, or none).
    static func from(_ context: OpaquePointer?) -> RestoreContext? {
        guard let context else { return nil }
        return running.withLock { $0[UInt(bitPattern: UnsafeRawPointer(context))] }
    }

    // MARK: Outcome

    /// A copy of what the plugin said and what failed.
    var snapshot: State { state.withLock { $0 } }

    /// What the plugin reported, then the host's own report of setuid and setgid bits left out.
    var reports: [(key: String, value: String)] {
        let said = snapshot
        guard said.setIDDropped > 0, let first = said.firstSetIDDropped else { return said.reports }
        let more = said.setIDDropped == 1 ? "" : " and \(said.setIDDropped - 1) more"
        return said.reports + [(Self.setIDReport, "\(first)\(more): setuid/setgid bits not restored (restore with --keep-setid to keep them)")]
    }

    /// The report key under which the host lists files whose setuid or setgid bits it left out.
    static let setIDReport = "setid_not_restored"

    /// `mode`'s permission bits, less setuid (and setgid, unless `directory`) without `keepSetID`;
    /// a bit left out is counted for the report.
    private func permitted(_ mode: UInt32, directory isDirectory: Bool, _ path: [UInt8]) -> mode_t {
        var bits = mode_t(mode & 0o7777)
        guard !keepSetID else { return bits }
        let setID = isDirectory ? S_ISUID : S_ISUID | S_ISGID
        if bits & setID != 0 {
            bits &= ~setID
            noteSetIDDropped(path)
        }
        return bits
    }

    private func noteSetIDDropped(_ path: [UInt8]) {
        state.withLock { state in
            state.setIDDropped += 1
            if state.firstSetIDDropped == nil { state.firstSetIDDropped = DisplayText.escaped(shown(path)) }
        }
    }

    // MARK: Services

    /// How a path names its entry in messages: `KIND/path`.
    func shown(_ path: [UInt8]) -> String {
        "\(kind)/" + String(decoding: path, as: UTF8.self)
    }

    private func record(_ message: String, store error: StoreError? = nil) {
        state.withLock { state in
            state.hostError = message
            if let error { state.storeError = error }
        }
        logger.debug("\(message)", metadata: ["plugin": "\(plugin.id)"])
    }

    /// A path argument as bytes, or nil (recorded) when it is not a plain relative path.
    private func path(_ service: String, _ text: UnsafePointer<CChar>) -> [UInt8]? {
        let bytes = Array(UnsafeRawBufferPointer(start: text, count: strlen(text)))
        guard SystemCalls.isPlainRelative(bytes) else {
            record("\(service) '\(String(decoding: bytes, as: UTF8.self))': not a plain relative path (it is empty or absolute, or has an empty, '.' or '..' component); nothing is created outside \(kind)/")
            return nil
        }
        return bytes
    }

    /// The `PF_*` code for a failed call, recorded with a message naming the path and what it means.
    private func failed(_ service: String, _ path: [UInt8], _ error: SystemCallError) -> Int32 {
        let meaning: String = switch error.code {
        case ELOOP, EXDEV: " (a symlink is on the way or at the name, and restore follows none)"
        case EEXIST: " (something is already there)"
        case ENOENT: " (its directory does not exist yet)"
        case ENOTDIR: " (a component on the way is not a directory)"
        case EINVAL: " (not a plain relative path)"
        default: ""
        }
        record("\(service) \(shown(path)): \(error.reason)\(meaning)")
        return Int32(error.code == EINVAL ? PF_ERR_INVALID : PF_ERR_IO)
    }

    func openBlob(_ digestText: UnsafePointer<CChar>, fd fdOut: UnsafeMutablePointer<Int32>, size sizeOut: UnsafeMutablePointer<UInt64>?) -> Int32 {
        guard !services.isCancelled else { return Int32(PF_ERR_CANCELLED) }
        let text = String(cString: digestText)
        guard let digest = try? Digest(parsing: text) else {
            record("open_blob '\(text)': not a digest (sha256: and 64 lowercase hex digits)")
            return Int32(PF_ERR_INVALID)
        }
        guard let size = blobs[digest] else {
            record("open_blob \(digest): not one of the \(kind) layer's blobs")
            return Int32(PF_ERR_INVALID)
        }
        do {
            let file = try verifier.open(BlobRef(digest: digest, size: size))
            fdOut.pointee = file.fd
            sizeOut?.pointee = UInt64(size)
            state.withLock { state in
                state.blobsOpened += 1
                state.bytesOpened += size
            }
            services.onBytes?(kind, UInt64(clamping: size))
            return Int32(PF_OK)
        } catch {
            record("blob \(digest) of the \(kind) layer: \(error)", store: error)
            return Int32(PF_ERR_IO)
        }
    }

    func makeDirectory(_ text: UnsafePointer<CChar>, mode: UInt32) -> Int32 {
        guard !services.isCancelled else { return Int32(PF_ERR_CANCELLED) }
        guard let path = path("make_directory", text) else { return Int32(PF_ERR_INVALID) }
        do {
            try system.makeDirectory(beneath: directory, path, mode: permitted(mode, directory: true, path), display: shown(path))
            return Int32(PF_OK)
        } catch {
            return failed("make_directory", path, error)
        }
    }

    func createFile(_ text: UnsafePointer<CChar>, mode: UInt32, fd fdOut: UnsafeMutablePointer<Int32>) -> Int32 {
        guard !services.isCancelled else { return Int32(PF_ERR_CANCELLED) }
        guard let path = path("create_file", text) else { return Int32(PF_ERR_INVALID) }
        do {
            fdOut.pointee = try system.createFile(beneath: directory, path, mode: permitted(mode, directory: false, path), display: shown(path))
            return Int32(PF_OK)
        } catch {
            return failed("create_file", path, error)
        }
    }

    func makeSymlink(target: UnsafePointer<CChar>, _ text: UnsafePointer<CChar>) -> Int32 {
        guard !services.isCancelled else { return Int32(PF_ERR_CANCELLED) }
        guard let path = path("make_symlink", text) else { return Int32(PF_ERR_INVALID) }
        let targetBytes = Array(UnsafeRawBufferPointer(start: target, count: strlen(target)))
        guard !targetBytes.isEmpty else {
            record("make_symlink \(shown(path)): an empty target")
            return Int32(PF_ERR_INVALID)
        }
        do {
            try system.makeSymlink(beneath: directory, path, target: targetBytes, display: shown(path))
            return Int32(PF_OK)
        } catch {
            return failed("make_symlink", path, error)
        }
    }

    func setAttributes(_ text: UnsafePointer<CChar>, mode: UInt32, mtime: Int64) -> Int32 {
        guard !services.isCancelled else { return Int32(PF_ERR_CANCELLED) }
        guard let path = path("set_attributes", text) else { return Int32(PF_ERR_INVALID) }
        do {
            let dropped = try system.setAttributes(beneath: directory, path, mode: mode == PF_KEEP_MODE ? nil : mode_t(mode & 0o7777),
                                                   mtime: mtime, dropSetID: !keepSetID, display: shown(path))
            if dropped { noteSetIDDropped(path) }
            return Int32(PF_OK)
        } catch {
            return failed("set_attributes", path, error)
        }
    }

    /// Records one setting for `pfhost.json`, refusing (`PF_ERR_INVALID`, with a message naming the key)
    /// what the next snapshot would refuse or what would not be the plugin's bytes: a key or value that
    /// is not UTF-8, and for a plugin that declares settings (ABI 1.1) a key it does not declare or a
    /// value not of the declared type.
    func setRestoredConfig(key keyText: UnsafePointer<CChar>, value valueText: UnsafePointer<CChar>, isPath: Bool) -> Int32 {
        guard let key = String(validatingCString: keyText) else {
            record("set_restored_config '\(DisplayText.escaped(String(cString: keyText)))': the key is not valid UTF-8")
            return Int32(PF_ERR_INVALID)
        }
        guard !key.isEmpty else {
            record("set_restored_config: an empty key")
            return Int32(PF_ERR_INVALID)
        }
        let shownKey = "\(kind).\(DisplayText.escaped(key))"
        guard var value = String(validatingCString: valueText) else {
            record("set_restored_config \(shownKey): the value is not valid UTF-8 (pfhost.json holds text)")
            return Int32(PF_ERR_INVALID)
        }
        if let declared = plugin.settings {
            guard let setting = declared.first(where: { $0.key == key }) else {
                record("set_restored_config \(shownKey): not a setting the plugin declares (its settings: \(declared.map(\.key).joined(separator: ", "))), so the next snapshot would refuse it")
                return Int32(PF_ERR_INVALID)
            }
            if let problem = setting.type.problem(value) {
                record("set_restored_config \(shownKey)='\(DisplayText.escaped(value))' \(problem) (a \(setting.type.rawValue) setting), so the next snapshot would refuse it")
                return Int32(PF_ERR_INVALID)
            }
        }
        if isPath {
            if let declared = plugin.settings {
                guard declared.contains(where: { $0.key == key && $0.type == .path }) else {
                    record("set_restored_config \(kind).\(key): with is_path the key must be one of the plugin's path settings (\(declared.filter { $0.type == .path }.map(\.key).joined(separator: ", "))), so that the config file's directory is what it is relative to")
                    return Int32(PF_ERR_INVALID)
                }
            } else if !SnapshotConfiguration.isPathKey(key) {
                record("set_restored_config \(kind).\(key): a path setting's key must be path, root or dom, or end in _path, _dir or _file, so that the config file's directory is what it is relative to")
                return Int32(PF_ERR_INVALID)
            }
            if value == "." {
                value = kind.rawValue
            } else {
                let bytes = Array(value.utf8)
                guard SystemCalls.isPlainRelative(bytes) else {
                    record("set_restored_config \(kind).\(key)='\(value)': not a path relative to the layer's directory ('.' or a plain relative path)")
                    return Int32(PF_ERR_INVALID)
                }
                value = kind.rawValue + "/" + value
            }
        }
        state.withLock { $0.configuration[key] = value }
        return Int32(PF_OK)
    }

    func report(key keyText: UnsafePointer<CChar>, value valueText: UnsafePointer<CChar>) {
        // Printed on the user's terminal: what a crafted snapshot put there must not forge lines.
        let key = DisplayText.escaped(String(cString: keyText)), value = DisplayText.escaped(String(cString: valueText))
        state.withLock { state in
            if let index = state.reports.firstIndex(where: { $0.key == key }) {
                state.reports[index].value = value
            } else {
                state.reports.append((key, value))
            }
        }
    }
}
