import PFModel
import PFStore

/// The lines of a blob, read as a stream through the store's verified reader: memory is bounded
/// by `keep` (a longer line is hashed, not kept) and one read buffer, whatever the blob holds.
///
/// The last call, which returns nil, is the one that checks the whole blob against its digest, so
/// a caller that reads to the end never works from damaged bytes without an error.
struct BlobLines {
    private let reader: BlobReader
    private let keep: Int
    private var chunk: [UInt8] = []
    private var position = 0
    private var ended = false
    private var number = 0

    init(_ reader: BlobReader, keep: Int) {
        self.reader = reader
        self.keep = keep
    }

    /// The next line, or nil at the end (after the blob's digest was checked).
    mutating func next() throws(StoreError) -> BlobLine? {
        var kept: [UInt8] = []
        var hasher: SHA256Hasher?
        var length: Int64 = 0
        var started = false
        while true {
            if position == chunk.count {
                guard !ended, let next = try reader.read(upTo: 1 << 20) else {
                    ended = true
                    guard started else { return nil }
                    return finish(kept, hasher, length)
                }
                chunk = next
                position = 0
            }
            started = true
            let end = chunk[position...].firstIndex(of: UInt8(ascii: "\n"))
            let segment = chunk[position..<(end ?? chunk.count)]
            length += Int64(segment.count)
            if hasher == nil, kept.count + segment.count <= keep {
                kept += segment
            } else {
                if hasher == nil {
                    hasher = SHA256Hasher()
                    hasher?.update(kept)
                    kept = []
                }
                hasher?.update(segment)
            }
            if let end {
                position = end + 1
                return finish(kept, hasher, length)
            }
            position = chunk.count
        }
    }

    private mutating func finish(_ kept: [UInt8], _ hasher: SHA256Hasher?, _ length: Int64) -> BlobLine {
        number += 1
        if let hasher { return BlobLine(number: number, length: length, bytes: nil, digest: hasher.finalize()) }
        return BlobLine(number: number, length: length, bytes: kept, digest: nil)
    }
}
