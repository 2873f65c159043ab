import Testing
@testable import PFHost

/// The pipe from a capture process carries one message per line, a layer's JSON in one of them.
@Suite("Line buffer")
struct LineBufferTests {
    /// Feeds `text` in pieces of `size` bytes and returns the lines as they come out.
    private func lines(_ text: [UInt8], pieces size: Int, limit: Int = 1 << 30) -> [[UInt8]] {
        var buffer = LineBuffer(limit: limit)
        var out: [[UInt8]] = []
        var offset = 0
        while offset < text.count {
            let end = min(offset + size, text.count)
            text[offset..<end].withUnsafeBytes { buffer.append($0) }
            while let line = buffer.nextLine() { out.append(Array(line)) }
            offset = end
        }
        return out
    }

    @Test("lines come out whole and in order whatever the pieces: one split over thousands, several in one, empty ones", arguments: [1, 7, 4096, 1 << 20])
    func split(pieces: Int) {
        let long = [UInt8](repeating: UInt8(ascii: "x"), count: 3_000_000)
        let text = Array("a\n\nbc\n".utf8) + long + [0x0a] + Array("tail without newline".utf8)
        #expect(lines(text, pieces: pieces) == [Array("a".utf8), [], Array("bc".utf8), long])
    }

    @Test("a line past the limit is an overflow, not memory without end")
    func overflow() {
        var buffer = LineBuffer(limit: 10)
        Array("0123456789abc".utf8).withUnsafeBytes { buffer.append($0) }
        #expect(buffer.nextLine() == nil && buffer.overflowed)
    }
}
