import PFModel

/// One line of a JSON Lines blob (without its newline): its bytes when short enough to keep,
/// else only its length and digest.
struct BlobLine: Equatable {
    /// The line's number, from 1.
    var number: Int
    /// Its length in bytes.
    var length: Int64
    /// Its bytes, when at most the reader's limit.
    var bytes: [UInt8]?
    /// The SHA-256 of its bytes, for a line too long to keep.
    var digest: Digest?
}
