import PFModel

/// A KV-cache sequence as `diff` compares it: the counts the layer records and, when the cache
/// index was read, the keys of its pages (which commit to every token of the sequence).
public struct CacheSequenceRecord: Sendable, Equatable {
    /// The sequence's id.
    public var id: String
    /// Its tokens.
    public var tokenCount: Int
    /// Its pages.
    public var pageCount: Int
    /// The keys of its pages in order, from the cache index; nil when the index was not read.
    public var pageKeys: [String]?

    var json: JSONValue {
        .object(["id": .string(id), "token_count": .int(Int64(tokenCount)), "page_count": .int(Int64(pageCount))])
    }
}
