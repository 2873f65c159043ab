/// What a model layer records: the model's name and format, each weight file and the adapters;
/// or, for a model a provider serves (`format` `hosted`), the provider and the model's name there.
public struct ModelContent: LayerContent {
    public static let kind = LayerKind.model

    /// The format of a hosted model: no weights are stored, ``provider`` serves them.
    public static let hostedFormat = "hosted"

    /// The model's name, e.g. `tiny-llama-2l` (for a hosted model, its name at the provider, e.g.
    /// `gpt-4.1`).
    public var name: String
    /// The weights' format, e.g. `safetensors`, or `hosted`.
    public var format: String
    /// The base model's files (none when hosted).
    public var files: [ModelFile]
    /// Adapters (e.g. LoRA) applied on top of the base model.
    public var adapters: [ModelAdapter]
    /// The provider serving a hosted model, e.g. `openai`; nil for local weights.
    public var provider: String?
    /// The hosted model's revision or snapshot date, when pinned.
    public var revision: String?
    /// The API endpoint the agent calls, when not the provider's default.
    public var baseURL: String?

    /// A model layer's content.
    public init(name: String, format: String, files: [ModelFile], adapters: [ModelAdapter] = [],
                provider: String? = nil, revision: String? = nil, baseURL: String? = nil) {
        self.name = name
        self.format = format
        self.files = files
        self.adapters = adapters
        self.provider = provider
        self.revision = revision
        self.baseURL = baseURL
    }

    /// Whether the model is served by a provider rather than stored.
    public var isHosted: Bool { provider != nil }

    enum CodingKeys: String, CodingKey {
        case name, format, files, adapters, provider, revision, baseURL = "base_url"
    }
}

extension ModelContent {
    /// The blobs the content refers to: each file's digest or chunks, the adapters' files included.
    public var blobReferences: [Digest] { files.flatMap(\.blobs) + adapters.flatMap { $0.files.flatMap(\.blobs) } }
}
