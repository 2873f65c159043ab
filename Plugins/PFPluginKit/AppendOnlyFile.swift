import PFModel

/// How a file that only grows (a ledger, a conversation) relates to the blob the parent snapshot
/// stored for it, found by hashing: never by trusting sizes or timestamps alone.
public enum AppendOnlyFile {
    /// The file against the parent's copy.
    public enum Relation: Equatable {
        /// The same bytes.
        case unchanged
        /// The parent's bytes, then more.
        case appended
        /// Anything else (rewritten, truncated, or no parent to compare with).
        case different
    }

    /// Compares the file at `path` with the parent's blob of `parentSize` bytes named `parentDigest`.
    public static func relation(of path: String, toParent parentDigest: Digest?, size parentSize: Int64?) throws(PluginError) -> Relation {
        guard let parentDigest, let parentSize,
              let size = ReadableFile.size(of: path), size >= parentSize,
              let prefix = try FileDigest.of(path, prefix: parentSize), prefix.digest == parentDigest
        else { return .different }
        return size == parentSize ? .unchanged : .appended
    }

    /// Reads whole lines from `reader` into `writer` until `bytes` bytes have been copied: the part
    /// the parent already checked.
    ///
    /// - Throws: when the lines do not end exactly there (the file changed since it was compared).
    public static func copyPrefix(_ bytes: Int64, from reader: inout LineReader, to writer: PluginBlobWriter, path: String) throws(PluginError) {
        var copied: Int64 = 0
        while copied < bytes, let line = try reader.next() {
            try writer.write(line)
            copied += Int64(line.size)
        }
        guard copied == bytes else { throw .io("\(path) changed while it was read; retry the snapshot") }
    }
}
