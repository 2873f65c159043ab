import CPFPluginABI
import PFModel

/// A blob written piece by piece through the host. Commit or abort it; released unfinished,
/// it is aborted.
///
/// Small pieces (a JSON record, a small file) are gathered and handed to the host about
/// ``chunkSize`` bytes at a time, so writing a blob in many small pieces costs few host calls and
/// holds no more than one chunk in memory.
public final class PluginBlobWriter {
    private let host: PluginHost
    private var writer: OpaquePointer?
    private let mediaType: String
    private var size: Int64 = 0
    private var gathered: [UInt8] = []
    /// Pieces are gathered until they make this many bytes.
    public static let chunkSize = 64 << 10

    init(host: PluginHost, writer: OpaquePointer, mediaType: String) {
        self.host = host
        self.writer = writer
        self.mediaType = mediaType
    }

    deinit { abort() }

    /// Appends the bytes in `buffer`.
    public func write(_ buffer: UnsafeRawBufferPointer) throws(PluginError) {
        guard writer != nil else { preconditionFailure("PluginBlobWriter used after commit or abort") }
        size += Int64(buffer.count)
        if gathered.count + buffer.count < Self.chunkSize {
            if gathered.isEmpty { gathered.reserveCapacity(Self.chunkSize) }
            gathered.append(contentsOf: buffer)
            return
        }
        try flush()
        if buffer.count >= Self.chunkSize {
            try hand(buffer)
        } else {
            gathered.append(contentsOf: buffer)
        }
    }

    /// Hands the gathered pieces to the host.
    private func flush() throws(PluginError) {
        guard !gathered.isEmpty else { return }
        try gathered.withUnsafeBytes { raw in Result { () throws(PluginError) in try hand(raw) } }.get()
        gathered.removeAll(keepingCapacity: true)
    }

    private func hand(_ buffer: UnsafeRawBufferPointer) throws(PluginError) {
        try host.check(host.table.pointee.blob_write(writer!, buffer.baseAddress, buffer.count), "writing a \(mediaType) blob")
    }

    /// Appends `bytes`.
    public func write(_ bytes: [UInt8]) throws(PluginError) {
        try bytes.withUnsafeBytes { raw in Result { () throws(PluginError) in try write(raw) } }.get()
    }

    /// Appends `line` exactly as it was in its file: its bytes, then its `\n` if it had one.
    /// Nothing is copied (``LineReader/Line/raw`` would copy a 100 MiB line to add one byte).
    public func write(_ line: LineReader.Line) throws(PluginError) {
        try write(line.bytes)
        if line.terminated { try write([0x0a]) }
    }

    /// Finishes the blob and returns its descriptor.
    public func commit() throws(PluginError) -> Descriptor {
        guard writer != nil else { preconditionFailure("PluginBlobWriter committed twice") }
        try flush()
        let writer = self.writer!
        self.writer = nil
        var digest = [CChar](repeating: 0, count: Int(PF_DIGEST_STRLEN))
        try host.check(host.table.pointee.blob_commit(writer, &digest), "finishing a \(mediaType) blob")
        return Descriptor(mediaType: mediaType, digest: try host.parse(digest), size: size)
    }

    /// Discards the blob.
    public func abort() {
        guard let writer else { return }
        self.writer = nil
        gathered = []
        host.table.pointee.blob_abort(writer)
    }
}
