/// A pack of small files from a world tree, stored as one blob.
///
/// `key` (64 hex digits) is the SHA-256 of the members' paths and stat data (device, inode,
/// size, mtime and ctime in nanoseconds): a later snapshot whose pack has the same key reuses
/// this blob without reading the files. It is absent when a member changed too recently to
/// trust its timestamps (within the filesystem's timestamp granularity of the capture), so
/// such a pack is always read again.
public struct WorldPack: Codable, Hashable, Sendable {
    /// The pack's blob.
    public var digest: Digest
    /// The members' stat key; nil when it must not be trusted.
    public var key: String?
    /// Files in the pack.
    public var fileCount: Int

    /// A pack.
    public init(digest: Digest, key: String?, fileCount: Int) {
        self.digest = digest
        self.key = key
        self.fileCount = fileCount
    }

    enum CodingKeys: String, CodingKey {
        case digest, key, fileCount = "file_count"
    }
}
