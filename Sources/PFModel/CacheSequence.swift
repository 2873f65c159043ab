/// One cached sequence.
public struct CacheSequence: Codable, Hashable, Sendable {
    /// The sequence's id.
    public var id: String
    /// Its tokens.
    public var tokenCount: Int
    /// Its pages (a page shared with another sequence counts in both).
    public var pageCount: Int

    /// A sequence.
    public init(id: String, tokenCount: Int, pageCount: Int) {
        self.id = id
        self.tokenCount = tokenCount
        self.pageCount = pageCount
    }

    enum CodingKeys: String, CodingKey {
        case id, tokenCount = "token_count", pageCount = "page_count"
    }
}
