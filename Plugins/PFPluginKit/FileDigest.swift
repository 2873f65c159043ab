import Foundation
import PFModel

/// The SHA-256 of a file, or of its first bytes, read in 1 MiB chunks.
public enum FileDigest {
    /// The digest and size of the file at `path`; with `prefix`, of only its first `prefix` bytes
    /// (nil when the file is shorter).
    public static func of(_ path: String, prefix: Int64? = nil) throws(PluginError) -> (digest: Digest, size: Int64)? {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw .io("\(path): cannot be read") }
        defer { try? handle.close() }
        let hasher = SHA256Hasher()
        var size: Int64 = 0
        while prefix.map({ size < $0 }) ?? true {
            let want = prefix.map { Int(min(Int64(1 << 20), $0 - size)) } ?? (1 << 20)
            let chunk: Data?
            do { chunk = try handle.read(upToCount: want) } catch {
                throw .io("\(path): read failed: \(error.localizedDescription)")
            }
            guard let chunk, !chunk.isEmpty else { break }
            chunk.withUnsafeBytes { hasher.update($0) }
            size += Int64(chunk.count)
        }
        if let prefix, size < prefix { return nil }
        return (hasher.finalize(), size)
    }
}
