#if canImport(Glibc)
import Glibc
#endif

/// Bytes arriving in pieces, split into lines (the newline dropped); a line longer than `limit`
/// is an error rather than memory without end.
struct LineBuffer {
    let limit: Int
    private var bytes: [UInt8] = []
    private var start = 0
    /// Where the search for the next newline resumes: bytes before it hold none, so a line
    /// arriving in many pieces is scanned once, not once per piece.
    private var scanned = 0

    init(limit: Int) {
        self.limit = limit
    }

    /// Whether the bytes since the last whole line exceed the limit.
    var overflowed: Bool { bytes.count - start > limit }

    mutating func append(_ buffer: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: buffer)
    }

    /// The next whole line, or nil until one has arrived.
    mutating func nextLine() -> ArraySlice<UInt8>? {
        let newline = bytes.withUnsafeBufferPointer { buffer -> Int? in
            guard scanned < buffer.count,
                  let found = memchr(buffer.baseAddress! + scanned, 0x0a, buffer.count - scanned) else { return nil }
            return buffer.baseAddress!.distance(to: found.assumingMemoryBound(to: UInt8.self))
        }
        guard let newline else {
            scanned = bytes.count
            if start > 0 {
                bytes.removeSubrange(0..<start)
                scanned -= start
                start = 0
            }
            return nil
        }
        let line = bytes[start..<newline]
        start = newline + 1
        scanned = start
        return line
    }
}
