/// What a model layer records: the model's name and format, each weight file and the adapters.
public struct ModelContent: LayerContent {
    public static let kind = LayerKind.model

    /// The model's name, e.g. `tiny-llama-2l`.
    public var name: String
    /// The weights' format, e.g. `safetensors`.
    public var format: String
    /// The base model's files.
    public var files: [ModelFile]
    /// Adapters (e.g. LoRA) applied on top of the base model.
    public var adapters: [ModelAdapter]

    /// A model layer's content.
    public init(name: String, format: String, files: [ModelFile], adapters: [ModelAdapter] = []) {
        self.name = name
        self.format = format
        self.files = files
        self.adapters = adapters
    }
}

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

/// An adapter applied to the base model.
public struct ModelAdapter: Codable, Hashable, Sendable {
    /// The adapter's name (its directory name).
    public var name: String
    /// The base model the adapter was trained for.
    public var baseModel: String
    /// The adapter type, e.g. `LORA`.
    public var type: String
    /// The adapter's files.
    public var files: [ModelFile]

    /// An adapter.
    public init(name: String, baseModel: String, type: String, files: [ModelFile]) {
        self.name = name
        self.baseModel = baseModel
        self.type = type
        self.files = files
    }

    enum CodingKeys: String, CodingKey {
        case name, baseModel = "base_model", type, files
    }
}
