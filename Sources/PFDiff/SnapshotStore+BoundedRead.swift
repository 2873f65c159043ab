import PFModel
import PFStore

extension SnapshotStore {
    /// Reads a whole blob of at most `limit` bytes through the store's verified reader; nil when
    /// the blob is larger (the caller then says what it did not compare).
    ///
    /// - Throws: ``StoreError`` when the blob is missing, is not a regular file, does not hash to
    ///   its digest, or its size is not `expectedSize` (the size a descriptor gives for it).
    func readBounded(_ digest: Digest, expectedSize: Int64?, limit: Int) throws(StoreError) -> [UInt8]? {
        let reader = try openBlob(digest)
        try checkSize(of: reader, expectedSize)
        guard reader.size <= Int64(limit) else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(reader.size))
        while let chunk = try reader.read(upTo: 1 << 20) {
            bytes += chunk
            // A blob is immutable: growing while read is damage, and must not cost more than the limit.
            guard bytes.count <= limit else {
                throw .corrupt(file: blobPath(digest), reason: "it grew while it was read")
            }
        }
        return bytes
    }

    /// Fails when a blob's size on disk is not what its descriptor says.
    func checkSize(of reader: BlobReader, _ expectedSize: Int64?) throws(StoreError) {
        if let expectedSize, reader.size != expectedSize {
            throw .corrupt(file: blobPath(reader.digest), reason: "size \(reader.size), its descriptor says \(expectedSize)")
        }
    }
}
