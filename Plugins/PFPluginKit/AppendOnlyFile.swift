import PFModel

/// How a file that only grows (a ledger, a conversation) relates to the blob the parent snapshot
/// stored for it, found by hashing. (A file whose settled stat data the parent's capture kept is
/// taken as the parent's before this, unread: ``PluginHost/setParentLayer(ifStatOf:recordedIn:)``.)
public enum AppendOnlyFile {
    /// The file against the parent's copy.
    public enum Relation: Equatable {
        /// The same bytes.
        case unchanged
        /// The parent's bytes, whose last line was whole (they end in a newline), then more.
        case appended
        /// Anything else (rewritten, truncated, or no parent to compare with).
        case different
    }

    /// Compares `file` (as of its size when opened) with the parent's blob of `parentSize` bytes
    /// named `parentDigest`.
    ///
    /// Its first `parentSize` bytes are hashed, with `pread`, so whoever reads `file` next still
    /// starts at its beginning. A longer file whose
    /// parent's bytes do not end in a newline is `different`: the parent's last line was cut
    /// short (a snapshot between a writer's line and its newline), and what was appended
    /// continues it, so the lines must be read again from the start.
    public static func relation(of file: ReadableFile, toParent parentDigest: Digest?, size parentSize: Int64?) throws(PluginError) -> Relation {
        guard let parentDigest, let parentSize, file.size >= parentSize else { return .different }
        let hasher = SHA256Hasher()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        var last: UInt8 = UInt8(ascii: "\n")
        while offset < parentSize {
            let want = Int(min(Int64(buffer.count), parentSize - offset))
            let count = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]), at: offset)
            guard count > 0 else { return .different }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            last = buffer[count - 1]
            offset += Int64(count)
        }
        guard hasher.finalize() == parentDigest else { return .different }
        if file.size == parentSize { return .unchanged }
        return last == UInt8(ascii: "\n") ? .appended : .different
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
