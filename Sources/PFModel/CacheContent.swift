/// What a cache layer records: the KV cache's model binding and geometry, its sequences, and
/// where its pages are (an index blob and a few pack blobs).
public struct CacheContent: LayerContent {
    public static let kind = LayerKind.cache

    /// The fingerprint of the model the cache was computed with.
    public var modelFingerprint: String
    /// The element type, e.g. `f16`.
    public var dtype: String
    /// Tokens per page.
    public var tokensPerPage: Int
    /// Transformer layers, KV heads and head dimension: the page geometry.
    public var numLayers: Int
    public var numHeads: Int
    public var headDim: Int
    /// Bytes per page.
    public var pageBytes: Int64
    /// Distinct pages.
    public var pageCount: Int
    /// Tokens over all sequences.
    public var tokenCount: Int
    /// The cached sequences.
    public var sequences: [CacheSequence]
    /// The page index blob: every page's key, pack and offset, and each sequence's tokens and
    /// page table (docs/kv-cache-dump.md).
    public var index: Digest
    /// The pack blobs holding the page bytes.
    public var packs: [CachePack]

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

    enum CodingKeys: String, CodingKey {
        case modelFingerprint = "model_fingerprint", dtype, tokensPerPage = "tokens_per_page"
        case numLayers = "num_layers", numHeads = "num_heads", headDim = "head_dim"
        case pageBytes = "page_bytes", pageCount = "page_count", tokenCount = "token_count"
        case sequences, index, packs
    }
}
