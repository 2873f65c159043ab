import CPFPluginABI
import PFModel

/// A blob written piece by piece through the host. Commit or abort it; released unfinished,
/// it is aborted.
public final class PluginBlobWriter {
    private let host: PluginHost
    private var writer: OpaquePointer?
    private let mediaType: String
    private var size: Int64 = 0

    init(host: PluginHost, writer: OpaquePointer, mediaType: String) {
        self.host = host
        self.writer = writer
        self.mediaType = mediaType
    }

    deinit { abort() }

    /// Appends the bytes in `buffer`.
    public func write(_ buffer: UnsafeRawBufferPointer) throws(PluginError) {
        guard let writer else { preconditionFailure("PluginBlobWriter used after commit or abort") }
        try host.check(host.table.pointee.blob_write(writer, buffer.baseAddress, buffer.count), "writing a \(mediaType) blob")
        size += Int64(buffer.count)
    }

    /// Appends `bytes`.
    public func write(_ bytes: [UInt8]) throws(PluginError) {
        try bytes.withUnsafeBytes { raw in Result { () throws(PluginError) in try write(raw) } }.get()
    }

    /// Finishes the blob and returns its descriptor.
    public func commit() throws(PluginError) -> Descriptor {
        guard let writer else { preconditionFailure("PluginBlobWriter committed twice") }
        self.writer = nil
        var digest = [CChar](repeating: 0, count: Int(PF_DIGEST_STRLEN))
        try host.check(host.table.pointee.blob_commit(writer, &digest), "finishing a \(mediaType) blob")
        return Descriptor(mediaType: mediaType, digest: try host.parse(digest), size: size)
    }

    /// Discards the blob.
    public func abort() {
        guard let writer else { return }
        self.writer = nil
        host.table.pointee.blob_abort(writer)
    }
}
