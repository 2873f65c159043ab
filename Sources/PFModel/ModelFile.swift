/// One file of a model or adapter, stored whole (``digest``) or, when larger than
/// ``chunkSize``, as chunks (``chunks``): exactly one of the two is set.
///
/// Chunks exist for verification speed: SHA-256 of one stream runs on one lane of one core, while
/// pfhost hashes many blobs of up to 16 MiB side by side (``MultiBufferSHA256``), so a 10 GB weight
/// file kept as 4 MiB chunks verifies in restore and `verify --all` about five times faster.
public struct ModelFile: Codable, Hashable, Sendable {
    /// The path relative to the model directory.
    public var path: String
    /// The blob holding the whole file; nil for a file stored in chunks.
    public var digest: Digest?
    /// The blobs holding the file in order (their bytes, concatenated, are the file); nil for a
    /// file stored whole. The reference plugin cuts ``chunkSize`` bytes per chunk, the last one
    /// shorter; a reader takes the chunks' sizes from the layer's blob descriptors.
    public var chunks: [Digest]?
    /// The file's size in bytes.
    public var size: Int64
    /// The number of tensors, for weight files.
    public var tensorCount: Int?
    /// The distinct tensor dtypes, sorted (e.g. `["BF16", "F32"]`), for weight files.
    public var dtypes: [String]?

    /// The size of the chunks the reference model plugin cuts a file of more than this many bytes into: 4 MiB.
    public static let chunkSize: Int64 = 4 << 20

    /// A model file stored whole, as the blob `digest`.
    public init(path: String, digest: Digest, size: Int64, tensorCount: Int? = nil, dtypes: [String]? = nil) {
        self.path = path
        self.digest = digest
        self.size = size
        self.tensorCount = tensorCount
        self.dtypes = dtypes
    }

    /// A model file stored as the blobs `chunks`, in order.
    public init(path: String, chunks: [Digest], size: Int64, tensorCount: Int? = nil, dtypes: [String]? = nil) {
        self.path = path
        self.chunks = chunks
        self.size = size
        self.tensorCount = tensorCount
        self.dtypes = dtypes
    }

    /// The blobs holding the file, in order: the one blob, or the chunks (both, in a malformed
    /// record, which the layer's schema refuses: then the chunks).
    public var blobs: [Digest] { chunks ?? digest.map { [$0] } ?? [] }

    enum CodingKeys: String, CodingKey {
        case path, digest, chunks, size, tensorCount = "tensor_count", dtypes
    }
}
