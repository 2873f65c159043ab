/// A pack of KV pages: consecutive pages of one sequence's chain, stored as one blob.
///
/// `last_key` and `page_count` identify the pack's content without reading it: a page key
/// chains every token before it, so the same last key and count mean the same pages. A later
/// snapshot that forms an identical pack reuses this blob instead of writing it again.
public struct CachePack: Codable, Hashable, Sendable {
    /// The pack's blob.
    public var digest: Digest
    /// The key of its last page, 64 hex digits.
    public var lastKey: String
    /// The pages it holds.
    public var pageCount: Int

    /// A pack.
    public init(digest: Digest, lastKey: String, pageCount: Int) {
        self.digest = digest
        self.lastKey = lastKey
        self.pageCount = pageCount
    }

    enum CodingKeys: String, CodingKey {
        case digest, lastKey = "last_key", pageCount = "page_count"
    }
}
