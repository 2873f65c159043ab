import PFModel
import PFPluginKit
import PFSystem

/// The world pack a restore is writing files from, read whole once (packs hold files under
/// 64 KiB and are at most a few MiB), since the index lists a pack's members one after another.
struct PackReader {
    let host: RestoreHost
    private var current: Digest?
    private var bytes: [UInt8] = []

    init(host: RestoreHost) {
        self.host = host
    }

    /// Writes `count` bytes of pack `digest` from `offset` (checked to lie within it) to `file`.
    mutating func write(_ digest: Digest, from offset: Int64, count: Int64, to file: WritableFile) throws(PluginError) {
        if current != digest {
            let blob = try host.openBlob(digest)
            bytes = try blob.read(upTo: Int(clamping: blob.size))
            current = digest
        }
        guard offset >= 0, count >= 0, offset <= Int64(bytes.count) - count else {
            throw .invalid("bytes \(offset)..<\(offset + count) are outside pack \(digest) (\(bytes.count) bytes)")
        }
        try withBytes(bytes) { (raw) throws(PluginError) in
            try file.write(UnsafeRawBufferPointer(rebasing: raw[Int(offset)..<Int(offset + count)]))
        }
    }
}
