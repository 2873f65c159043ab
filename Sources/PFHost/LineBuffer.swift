/// Bytes arriving in pieces, split into lines (the newline dropped); a line longer than `limit`
/// is an error rather than memory without end.
struct LineBuffer {
    let limit: Int
    private var bytes: [UInt8] = []
    private var start = 0

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
        guard let newline = bytes[start...].firstIndex(of: 0x0a) else {
            if start > 0 {
                bytes.removeSubrange(0..<start)
                start = 0
            }
            return nil
        }
        let line = bytes[start..<newline]
        start = newline + 1
        return line
    }
}
