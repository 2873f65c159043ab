/// What a cache layer records: the KV cache's model binding and geometry, its sequences, and
/// where its pages are (an index blob and a few pack blobs); or, for an agent whose model a
/// provider serves (``hosted``), that the KV cache lives with the provider: no geometry, no index,
/// no pages.
public struct CacheContent: LayerContent {
    public static let kind = LayerKind.cache

    /// The fingerprint of the model the cache was computed with.
    public var modelFingerprint: String
    /// The element type, e.g. `f16` (nil when hosted).
    public var dtype: String?
    /// Tokens per page (nil when hosted).
    public var tokensPerPage: Int?
    /// Transformer layers, KV heads and head dimension: the page geometry (nil when hosted).
    public var numLayers: Int?
    public var numHeads: Int?
    public var headDim: Int?
    /// Bytes per page (nil when hosted).
    public var pageBytes: Int64?
    /// Distinct pages.
    public var pageCount: Int
    /// Tokens over all sequences.
    public var tokenCount: Int
    /// The cached sequences.
    public var sequences: [CacheSequence]
    /// The page index blob: every page's key, pack and offset, and each sequence's tokens and
    /// page table (docs/kv-cache-dump.md); nil when hosted.
    public var index: Digest?
    /// The pack blobs holding the page bytes.
    public var packs: [CachePack]
    /// True when the KV cache lives with the model's provider and nothing of it is stored; absent
    /// for a local cache.
    public var hosted: Bool?

    /// A cache layer's content.
    public init(
        modelFingerprint: String, dtype: String, tokensPerPage: Int, numLayers: Int, numHeads: Int,
        headDim: Int, pageBytes: Int64, pageCount: Int, tokenCount: Int, sequences: [CacheSequence],
        index: Digest, packs: [CachePack]
    ) {
        self.modelFingerprint = modelFingerprint
        self.dtype = dtype
        self.tokensPerPage = tokensPerPage
        self.numLayers = numLayers
        self.numHeads = numHeads
        self.headDim = headDim
        self.pageBytes = pageBytes
        self.pageCount = pageCount
        self.tokenCount = tokenCount
        self.sequences = sequences
        self.index = index
        self.packs = packs
    }

    /// The content of a hosted cache: nothing stored, bound to `modelFingerprint`.
    public static func hosted(modelFingerprint: String) -> CacheContent {
        CacheContent(hostedWith: modelFingerprint)
    }

    private init(hostedWith modelFingerprint: String) {
        self.modelFingerprint = modelFingerprint
        pageCount = 0
        tokenCount = 0
        sequences = []
        packs = []
        hosted = true
    }

    /// Whether the KV cache lives with the provider.
    public var isHosted: Bool { hosted == true }

    enum CodingKeys: String, CodingKey {
        case modelFingerprint = "model_fingerprint", dtype, tokensPerPage = "tokens_per_page"
        case numLayers = "num_layers", numHeads = "num_heads", headDim = "head_dim"
        case pageBytes = "page_bytes", pageCount = "page_count", tokenCount = "token_count"
        case sequences, index, packs, hosted
    }
}

extension CacheContent {
    /// The blobs the content refers to: the index and the packs (none for a hosted cache).
    public var blobReferences: [Digest] { (index.map { [$0] } ?? []) + packs.map(\.digest) }
}
