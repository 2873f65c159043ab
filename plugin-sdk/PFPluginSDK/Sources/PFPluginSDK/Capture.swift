import CPFPluginABI

/// One capture: the host's services for this call, as Swift. Valid only inside ``run(_:_:_:)``'s body.
///
/// ```swift
/// Capture.run(host, context) { capture throws(PluginFailure) in
///     let path = try capture.required("path")
///     let blob = try capture.putFile(path, mediaType: "application/x-ndjson")
///     try capture.setLayer(#"{"kind":"trace","blobs":[\#(blob.descriptor)],"messages":"\#(blob.digest)","message_count":0}"#)
/// }
/// ```
public struct Capture {
    let host: UnsafePointer<pf_host>
    let context: OpaquePointer

    /// A stored blob.
    public struct Blob: Sendable {
        /// `sha256:<hex>`.
        public let digest: String
        public let size: UInt64
        public let mediaType: String

        /// `{"media_type":…,"digest":…,"size":…}` for the layer's `blobs`.
        public var descriptor: String { #"{"media_type":"\#(mediaType)","digest":"\#(digest)","size":\#(size)}"# }
    }

    /// Runs `body` with the call's services; a thrown ``PluginFailure`` becomes `set_error` and its
    /// code, and returning normally `PF_OK` (so call ``setLayer(_:)`` before).
    public static func run(_ host: UnsafePointer<pf_host>?, _ context: OpaquePointer?,
                           _ body: (Capture) throws(PluginFailure) -> Void) -> Int32 {
        guard let host, let context else { return Int32(PF_ERR_INVALID) }
        let capture = Capture(host: host, context: context)
        do {
            try body(capture)
            return Int32(PF_OK)
        } catch {
            host.pointee.set_error(context, error.message)
            return error.code
        }
    }

    /// The value of this plugin's setting `key` (its default when unset and declared with one), or nil.
    public func config(_ key: String) -> String? {
        host.pointee.config(context, key).map { String(cString: $0) }
    }

    /// The value of `key`, or a failure saying it is not set.
    public func required(_ key: String) throws(PluginFailure) -> String {
        guard let value = config(key) else { throw .invalid("\(key) is not set") }
        return value
    }

    /// Whether the host wants the capture to stop: check it in long loops.
    public var isCancelled: Bool { host.pointee.cancelled(context) != 0 }

    /// Stores `bytes` as one blob.
    public func putBlob(_ bytes: [UInt8], mediaType: String) throws(PluginFailure) -> Blob {
        var digest = [CChar](repeating: 0, count: Int(PF_DIGEST_STRLEN))
        let code = bytes.withUnsafeBytes { host.pointee.put_blob(context, mediaType, $0.baseAddress, $0.count, &digest) }
        guard code == Int32(PF_OK) else { throw PluginFailure(code, "storing a blob of \(bytes.count) bytes failed") }
        return Blob(digest: String(decoding: digest.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self),
                    size: UInt64(bytes.count), mediaType: mediaType)
    }

    /// Stores the file at `path` as one blob, streamed.
    public func putFile(_ path: String, mediaType: String) throws(PluginFailure) -> Blob {
        var digest = [CChar](repeating: 0, count: Int(PF_DIGEST_STRLEN))
        var size: UInt64 = 0
        let code = host.pointee.put_file(context, path, mediaType, &digest, &size)
        guard code == Int32(PF_OK) else { throw PluginFailure(code, "cannot store \(path)") }
        return Blob(digest: String(decoding: digest.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self),
                    size: size, mediaType: mediaType)
    }

    /// Hands back the layer JSON (exactly once).
    public func setLayer(_ json: String) throws(PluginFailure) {
        var bytes = Array(json.utf8)
        let code = bytes.withUnsafeMutableBytes { host.pointee.set_layer(context, $0.baseAddress?.assumingMemoryBound(to: CChar.self), $0.count) }
        guard code == Int32(PF_OK) else { throw PluginFailure(code, "the host refused the layer") }
    }

    /// Logs `message` at `PF_LOG_INFO`.
    public func log(_ message: String) {
        host.pointee.log(context, Int32(PF_LOG_INFO), message)
    }
}
