/// A filesystem tree: an index blob listing every entry, the packs holding small files, and totals.
public struct WorldTree: Codable, Hashable, Sendable {
    /// The index blob: one record per path (type, mode, size, mtime, link target, content).
    public var index: Digest
    /// Files, directories and symlinks under the root.
    public var entryCount: Int
    /// Bytes of regular files.
    public var totalBytes: Int64
    /// The blobs packing small files together; absent when there are none.
    public var packs: [WorldPack]?

    /// A tree summary.
    public init(index: Digest, entryCount: Int, totalBytes: Int64, packs: [WorldPack]? = nil) {
        self.index = index
        self.entryCount = entryCount
        self.totalBytes = totalBytes
        self.packs = packs
    }

    enum CodingKeys: String, CodingKey {
        case index, entryCount = "entry_count", totalBytes = "total_bytes", packs
    }
}
