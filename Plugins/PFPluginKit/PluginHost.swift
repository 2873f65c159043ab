import CPFPluginABI
import PFModel

/// Safe access to the host's services during one capture: configuration, blob writing, the
/// parent layer, the result, logs, progress and cancellation. No unsafe pointer reaches the
/// plugin's own code.
///
/// A `PluginHost` is valid only until the capture function returns. Its methods may be called
/// from any thread (the host's services are thread-safe).
public struct PluginHost: @unchecked Sendable {
    // The host table and context pointers are valid for the capture call and the host's
    // services are thread-safe, so the value may cross threads within that call.
    let table: UnsafePointer<pf_host>
    let context: OpaquePointer

    /// The plugin this capture runs: its layers' stamp, and which parent layers it trusts.
    public let identity: PluginIdentity

    /// The layer this plugin captures (for messages: `world.root is not set`).
    public var kind: LayerKind { identity.kind }

    init(table: UnsafePointer<pf_host>, context: OpaquePointer, identity: PluginIdentity) {
        self.table = table
        self.context = context
        self.identity = identity
    }

    /// The value of the setting `key` in this layer's section, or nil.
    public func config(_ key: String) -> String? {
        table.pointee.config(context, key).map { String(cString: $0) }
    }

    /// The value of `key`, or an error saying how to set it.
    public func requiredConfig(_ key: String, meaning: String) throws(PluginError) -> String {
        guard let value = config(key), !value.isEmpty else {
            throw .invalid("\(kind).\(key) is not set (\(meaning)); set it in the config file's \"\(kind)\" section or with --set \(kind).\(key)=…")
        }
        return value
    }

    /// A comma-separated list setting, each item trimmed of spaces and tabs, empty items dropped;
    /// empty when unset.
    public func list(_ key: String) -> [String] {
        let blank: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        return Array((config(key) ?? "").utf8).split(separator: UInt8(ascii: ","), omittingEmptySubsequences: true).compactMap { item in
            guard let first = item.firstIndex(where: { !blank($0) }), let last = item.lastIndex(where: { !blank($0) }) else { return nil }
            return String(decoding: item[first...last], as: UTF8.self)
        }
    }

    /// A boolean setting: `true`/`1`/`yes`/`on` or `false`/`0`/`no`/`off`; `fallback` when unset.
    public func flag(_ key: String, default fallback: Bool) throws(PluginError) -> Bool {
        guard let value = config(key) else { return fallback }
        switch value.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw .invalid("\(kind).\(key)='\(value)' is not a boolean (true or false)")
        }
    }

    /// The `racy_window_ms` setting in nanoseconds: how old a file's timestamps must be for its
    /// stat data to be trusted (``FileStatRecord``); ``FileStatRecord/defaultRacyWindow`` when unset.
    public func racyWindow() throws(PluginError) -> Int64 {
        guard let text = config("racy_window_ms") else { return FileStatRecord.defaultRacyWindow }
        guard let milliseconds = Int64(text) else { throw .invalid("\(kind).racy_window_ms='\(text)' is not a number of milliseconds") }
        guard milliseconds >= 0 else {
            throw .invalid("\(kind).racy_window_ms='\(text)' is negative: set 0 or more milliseconds (0 trusts stat data at once)")
        }
        let (nanoseconds, overflow) = milliseconds.multipliedReportingOverflow(by: 1_000_000)
        guard !overflow else { throw .invalid("\(kind).racy_window_ms='\(text)' is too large (at most \(Int64.max / 1_000_000))") }
        return nanoseconds
    }

    /// Stores `bytes` as a blob and returns its descriptor.
    public func putBlob(_ bytes: [UInt8], mediaType: String) throws(PluginError) -> Descriptor {
        try bytes.withUnsafeBytes { raw in Result { () throws(PluginError) in try putBlob(raw, mediaType: mediaType) } }.get()
    }

    /// Stores the bytes in `buffer` as a blob and returns its descriptor.
    public func putBlob(_ buffer: UnsafeRawBufferPointer, mediaType: String) throws(PluginError) -> Descriptor {
        var digest = [CChar](repeating: 0, count: Int(PF_DIGEST_STRLEN))
        let code = table.pointee.put_blob(context, mediaType, buffer.baseAddress, buffer.count, &digest)
        try check(code, "storing a \(mediaType) blob of \(buffer.count) bytes")
        return Descriptor(mediaType: mediaType, digest: try parse(digest), size: Int64(buffer.count))
    }

    /// Stores the regular file at `path` as a blob (streamed by the host; the path is opened as
    /// given, symlinks followed: for files under a directory being walked, use
    /// ``putFile(_:size:mediaType:)`` with a file opened through ``RootDirectory``).
    public func putFile(_ path: String, mediaType: String) throws(PluginError) -> Descriptor {
        var digest = [CChar](repeating: 0, count: Int(PF_DIGEST_STRLEN))
        var size: UInt64 = 0
        let code = table.pointee.put_file(context, path, mediaType, &digest, &size)
        try check(code, "storing \(path)")
        return Descriptor(mediaType: mediaType, digest: try parse(digest), size: Int64(size))
    }

    /// Stores `file` as a blob through the host's `put_fd` (ABI 1.1): `size` bytes from its start
    /// (its size when opened if nil), read by the host from the descriptor this plugin opened, so no
    /// path is resolved again. `changed` says the file changed while it was read (the blob then
    /// holds the prefix that was read).
    public func putFile(_ file: ReadableFile, size: Int64? = nil, mediaType: String) throws(PluginError) -> (blob: Descriptor, changed: Bool) {
        guard hasPutFD, let putFD = table.pointee.put_fd else {
            throw .io("storing \(file.path): this host lacks put_fd (plugin ABI 1.1); upgrade pfhost")
        }
        var digest = [CChar](repeating: 0, count: Int(PF_DIGEST_STRLEN))
        var stored: UInt64 = 0
        var flags: UInt32 = 0
        let code = putFD(context, file.fd, UInt64(size ?? file.size), mediaType, &digest, &stored, &flags)
        try check(code, "storing \(file.path)")
        return (Descriptor(mediaType: mediaType, digest: try parse(digest), size: Int64(stored)), flags & UInt32(PF_PUT_CHANGED) != 0)
    }

    /// Stores `size` bytes of `file` from `offset` as a blob through the host's `put_fd_range`
    /// (appended in ABI 1.1): one chunk of a file kept in pieces. `changed` says the file changed
    /// while it was read or ended inside the range (the blob then holds what was read).
    ///
    /// - Throws: ``PluginError`` when the host is one built before `put_fd_range`; check
    ///   ``canStoreRanges`` first and store the file whole there.
    public func putFile(_ file: ReadableFile, offset: Int64, size: Int64, mediaType: String) throws(PluginError) -> (blob: Descriptor, changed: Bool) {
        guard canStoreRanges, let putRange = table.pointee.put_fd_range else {
            throw .io("storing \(file.path): this host lacks put_fd_range (plugin ABI 1.1); upgrade pfhost")
        }
        guard offset >= 0, size >= 0 else { throw .invalid("storing \(file.path): a negative offset or size") }
        var digest = [CChar](repeating: 0, count: Int(PF_DIGEST_STRLEN))
        var stored: UInt64 = 0
        var flags: UInt32 = 0
        let code = putRange(context, file.fd, UInt64(offset), UInt64(size), mediaType, &digest, &stored, &flags)
        try check(code, "storing \(file.path) from offset \(offset)")
        return (Descriptor(mediaType: mediaType, digest: try parse(digest), size: Int64(stored)), flags & UInt32(PF_PUT_CHANGED) != 0)
    }

    /// Whether the host's table reaches `put_fd` (a 1.1 host).
    private var hasPutFD: Bool { reaches(\pf_host.put_fd) }

    /// Whether the host can store part of a file (`put_fd_range`, appended to ABI 1.1 after the
    /// restore services): hosts built before it cannot.
    public var canStoreRanges: Bool { reaches(\pf_host.put_fd_range) }

    private func reaches<Field>(_ field: KeyPath<pf_host, Field>) -> Bool {
        let end = MemoryLayout<pf_host>.offset(of: field)! + MemoryLayout<Field>.size
        return Int(table.pointee.struct_size) >= end
    }

    /// A streaming writer for one blob.
    public func openBlob(mediaType: String) throws(PluginError) -> PluginBlobWriter {
        var writer: OpaquePointer?
        let code = table.pointee.blob_open(context, mediaType, &writer)
        try check(code, "opening a \(mediaType) blob")
        return PluginBlobWriter(host: self, writer: writer!, mediaType: mediaType)
    }

    /// This layer in the first parent snapshot, decoded; nil for a root snapshot, when another
    /// plugin or another version of this one captured it, or when it does not decode.
    public func parentLayer<Content: LayerContent>(_ type: Layer<Content>.Type) -> Layer<Content>? {
        guard let bytes = parentLayerBytes() else { return nil }
        return try? CanonicalJSON.decode(type, from: bytes)
    }

    /// The annotations of this layer in the first parent snapshot, read without decoding the rest
    /// of it; nil for a root snapshot, or when the parent's layer is not JSON or its annotations
    /// are not an object of strings.
    public func parentAnnotations() -> [String: String]? {
        guard let bytes = parentLayerBytes() else { return nil }
        let annotations: JSONValue?
        if let object = CanonicalObject(bytes) {
            annotations = object.value("annotations").flatMap { try? JSONParser.parse(bytes[$0]) }
        } else {
            annotations = (try? JSONParser.parse(bytes))?["annotations"]
        }
        guard case .object(let members)? = annotations else { return nil }
        var strings: [String: String] = [:]
        for (key, value) in members {
            guard let string = value.stringValue else { return nil }
            strings[key] = string
        }
        return strings
    }

    /// Whether this layer in the first parent snapshot has exactly these top-level members: each
    /// value's canonical JSON, or no such member where the value is nil. False for a root snapshot
    /// or a parent layer that is not canonical JSON. Compares bytes, decoding nothing.
    public func parentLayerHas(_ members: [String: (any Encodable)?]) -> Bool {
        guard let bytes = parentLayerBytes(), let object = CanonicalObject(bytes) else { return false }
        for (key, value) in members {
            let range = object.value(key)
            guard let value else {
                if range != nil { return false }
                continue
            }
            guard let range, let encoded = try? CanonicalJSON.encode(value), bytes[range].elementsEqual(encoded) else { return false }
        }
        return true
    }

    /// Hands the host this layer as the first parent snapshot has it, for a capture that found its
    /// input unchanged: the parent's bytes exactly as the host gave them, nothing decoded or encoded
    /// again. The host checks it as any layer (kind, blobs present) and stores it as the parent's.
    /// Exactly once per capture, instead of ``setLayer(_:)``.
    ///
    /// - Throws: ``PluginError`` when there is no parent layer, or the host refuses it.
    public func setParentLayer() throws(PluginError) {
        guard let parent = parentLayerBytes() else {
            throw PluginError(code: Int32(PF_ERR_INTERNAL), message: "there is no parent layer to hand back")
        }
        try setLayer(bytes: parent)
    }

    /// Hands the host the parent's layer (``setParentLayer()``) when `file`'s stat data as opened is
    /// what the parent's capture recorded in its annotation `annotation` (a settled
    /// ``FileStatRecord``): no write since could have left it so, and the file is not read.
    ///
    /// - Returns: whether it did; when not, the capture goes on and hands over a layer of its own.
    public func setParentLayer(ifStatOf file: ReadableFile, recordedIn annotation: String) throws(PluginError) -> Bool {
        guard let recorded = parentAnnotations()?[annotation], FileStatRecord.of(file.status) == recorded else { return false }
        try setParentLayer()
        return true
    }

    /// Hands the captured layer to the host (exactly once per capture).
    public func setLayer<Content: LayerContent>(_ layer: Layer<Content>) throws(PluginError) {
        let bytes: [UInt8]
        do { bytes = try CanonicalJSON.encode(layer) } catch {
            throw PluginError(code: Int32(PF_ERR_INTERNAL), message: "the layer cannot be encoded: \(error)")
        }
        try setLayer(bytes: bytes)
    }

    private func setLayer(bytes: [UInt8]) throws(PluginError) {
        let code = bytes.withUnsafeBytes { raw in
            table.pointee.set_layer(context, raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count)
        }
        try check(code, "handing the layer to the host")
    }

    /// The parent's layer as the host gave it (canonical JSON, stamped), or nil: also when another
    /// plugin, or another version of this one, captured it. Its keys, stat records and ledger head
    /// were made by that plugin's rules from what it read; trusting them would carry its bytes
    /// (whatever they are) into this plugin's layers for as long as the files do not change.
    private func parentLayerBytes() -> [UInt8]? {
        var length = 0
        guard let bytes = table.pointee.parent_layer(context, &length) else { return nil }
        let layer = Array(UnsafeRawBufferPointer(start: bytes, count: length))
        return Self.isStamped(layer, by: identity.stamp) ? layer : nil
    }

    /// Whether `layer` carries the stamp `plugin` (`"plugin": {"id": …, "version": …}`).
    static func isStamped(_ layer: [UInt8], by plugin: PluginRef) -> Bool {
        let expected = JSONValue.object(["id": .string(plugin.id), "version": .string(plugin.version)])
        if let object = CanonicalObject(layer) {
            guard let range = object.value("plugin") else { return false }
            return layer[range].elementsEqual(CanonicalJSON.encode(expected))
        }
        return (try? JSONParser.parse(layer))?["plugin"] == expected
    }

    /// Logs a message through the host.
    public func log(_ level: LogLevel, _ message: String) {
        table.pointee.log(context, level.rawValue, message)
    }

    /// Reports progress in the plugin's own units; `total` 0 means unknown.
    public func progress(done: UInt64, total: UInt64) {
        table.pointee.progress(context, done, total)
    }

    /// Whether the host wants the capture to stop.
    public var isCancelled: Bool { table.pointee.cancelled(context) != 0 }

    /// Throws ``PluginError/cancelled`` once the host wants the capture to stop. Call it in loops.
    public func checkCancelled() throws(PluginError) {
        if isCancelled { throw .cancelled }
    }

    func check(_ code: Int32, _ what: String) throws(PluginError) {
        guard code != Int32(PF_OK) else { return }
        if code == Int32(PF_ERR_CANCELLED) { throw .cancelled }
        throw PluginError(code: code, message: "\(what) failed (the host's log has the cause)")
    }

    func parse(_ digest: [CChar]) throws(PluginError) -> Digest {
        let text = digest.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        do { return try Digest(parsing: text) } catch {
            throw PluginError(code: Int32(PF_ERR_INTERNAL), message: "the host returned \(error)")
        }
    }

    /// Log levels, as `PF_LOG_*`.
    public enum LogLevel: Int32, Sendable {
        case debug = 0, info, warning, error
    }
}
