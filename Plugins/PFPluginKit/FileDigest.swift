import PFModel

/// The SHA-256 of a file, or of its first bytes, read in 1 MiB chunks.
public enum FileDigest {
    /// The digest and size of the file at `path`; with `prefix`, of only its first `prefix` bytes
    /// (nil when the file is shorter).
    public static func of(_ path: String, prefix: Int64? = nil) throws(PluginError) -> (digest: Digest, size: Int64)? {
        let file = try ReadableFile(path: path)
        let hasher = SHA256Hasher()
        var size: Int64 = 0
        while prefix.map({ size < $0 }) ?? true {
            let want = prefix.map { Int(min(Int64(1 << 20), $0 - size)) } ?? (1 << 20)
            let chunk = try file.read(upTo: want)
            guard !chunk.isEmpty else { break }
            hasher.update(chunk)
            size += Int64(chunk.count)
        }
        if let prefix, size < prefix { return nil }
        return (hasher.finalize(), size)
    }
}
