import PFModel

/// A blob in the store: its digest and size.
public struct BlobRef: Hashable, Sendable {
    /// The blob's SHA-256 digest.
    public let digest: Digest
    /// Its size in bytes.
    public let size: Int64

    /// A blob reference.
    public init(digest: Digest, size: Int64) {
        self.digest = digest
        self.size = size
    }
}
