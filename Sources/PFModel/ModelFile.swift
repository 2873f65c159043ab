/// One file of a model or adapter.
public struct ModelFile: Codable, Hashable, Sendable {
    /// The path relative to the model directory.
    public var path: String
    /// The blob holding the file.
    public var digest: Digest
    /// The file's size in bytes.
    public var size: Int64
    /// The number of tensors, for weight files.
    public var tensorCount: Int?
    /// The distinct tensor dtypes, sorted (e.g. `["BF16", "F32"]`), for weight files.
    public var dtypes: [String]?

    /// A model file.
    public init(path: String, digest: Digest, size: Int64, tensorCount: Int? = nil, dtypes: [String]? = nil) {
        self.path = path
        self.digest = digest
        self.size = size
        self.tensorCount = tensorCount
        self.dtypes = dtypes
    }

    enum CodingKeys: String, CodingKey {
        case path, digest, size, tensorCount = "tensor_count", dtypes
    }
}
