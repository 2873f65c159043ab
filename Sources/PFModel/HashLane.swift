/// One lane of a ``MultiBufferSHA256`` run: the stream it hashes and the chunk of it in memory.
///
/// The buffer holds the stream's bytes from `bufferStart` on, and for the stream's last chunk
/// also its padding (FIPS 180-4 §5.1.1), so that the kernel only ever sees whole blocks.
struct HashLane {
    /// The caller's name for the stream, and its size.
    var id: Int
    var size: Int64
    /// The stream offset of the buffer's first byte.
    var bufferStart: Int64 = 0
    /// The stream's bytes in the buffer, then how many with the padding, then how many the kernel
    /// has hashed: `consumed ≤ filled`, both multiples of 64 unless the stream ends (`isLast`).
    var messageBytes = 0
    var filled = 0
    var consumed = 0
    /// Whether the buffer ends the stream (its padding is there).
    var isLast = false

    /// The blocks in the buffer the kernel has not hashed yet.
    var blocksLeft: Int { (filled - consumed) / 64 }
    /// The stream bytes the kernel has hashed: where a scalar finish resumes.
    var hashed: Int64 { bufferStart + Int64(consumed) }
}
