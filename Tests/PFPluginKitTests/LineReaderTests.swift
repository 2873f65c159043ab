import Foundation
import Testing
@testable import PFPluginKit

/// LineReader: every line exactly, in linear time, a long line in one array of its size.
@Suite("LineReader")
struct LineReaderTests {
    /// Every line of a reader, with the work it counted.
    private func lines(_ reader: inout LineReader) throws -> [LineReader.Line] {
        var result: [LineReader.Line] = []
        while let line = try reader.next() { result.append(line) }
        return result
    }

    private func temporaryFile(_ bytes: [UInt8]) throws -> String {
        let path = NSTemporaryDirectory() + "/linereader-\(UUID().uuidString)"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("returns each line without its newline, a last line without one, and empty lines", arguments: [
        ("a\nbb\n\nccc", [("a", true), ("bb", true), ("", true), ("ccc", false)]),
        ("one\n", [("one", true)]),
        ("", []),
        ("\n", [("", true)]),
        ("x\r\ny\n", [("x\r", true), ("y", true)]),
    ])
    func lines(text: String, expected: [(String, Bool)]) throws {
        for fromFile in [false, true] {
            var reader = fromFile ? try LineReader(path: try temporaryFile(Array(text.utf8))) : LineReader(bytes: Array(text.utf8), name: "t")
            let got = try lines(&reader)
            #expect(got.map { String(decoding: $0.bytes, as: UTF8.self) } == expected.map(\.0))
            #expect(got.map(\.terminated) == expected.map(\.1))
            #expect(got.map(\.number) == (0..<got.count).map { $0 + 1 })
            #expect(got.reduce(0) { $0 + $1.size } == text.utf8.count)
        }
    }

    @Test("lines of every length around the window and its half come back byte for byte")
    func windowEdges() throws {
        let window = LineReader.windowSize
        var bytes: [UInt8] = []
        var expected: [[UInt8]] = []
        for (index, length) in [0, 1, window / 2 - 1, window / 2, window / 2 + 1, window - 1, window, window + 1, 3 * window + 7, 5, LineReader.scanSize + 3, 2].enumerated() {
            let line = (0..<length).map { UInt8(ascii: "a") + UInt8(($0 + index) % 26) }
            expected.append(line)
            bytes += line + [0x0a]
        }
        bytes += Array("tail".utf8)
        expected.append(Array("tail".utf8))
        for reader in [try LineReader(path: try temporaryFile(bytes)), LineReader(bytes: bytes, name: "t")] {
            var reader = reader
            let got = try lines(&reader)
            #expect(got.map(\.bytes) == expected)
            #expect(got.last?.terminated == false)
            // Each byte read at most three times, plus a long line's length past its end, and
            // searched at most three times: linear work.
            #expect(reader.bytesRead <= 4 * Int64(bytes.count) + Int64(window))
            #expect(reader.bytesSearched <= 3 * Int64(bytes.count) + Int64(window))
        }
    }

    @Test("a 20 MiB single line is read in linear work and little time")
    func longLine() throws {
        for size in [5 << 20, 20 << 20] {
            var bytes = [UInt8](repeating: UInt8(ascii: "x"), count: size)
            bytes += [0x0a] + Array("{}".utf8) + [0x0a]
            let path = try temporaryFile(bytes)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let clock = ContinuousClock()
            let start = clock.now
            var reader = try LineReader(path: path)
            let got = try lines(&reader)
            let elapsed = clock.now - start
            #expect(got.count == 2 && got[0].bytes.count == size && got[1].bytes == Array("{}".utf8))
            #expect(got[0].bytes.capacity < size + 4096, "the line's array is its size, not a grown buffer")
            // The quadratic reader searched its whole buffer again after each 64 KiB chunk: 20 MiB
            // meant 3.2 GB searched and seconds. Now each byte is searched at most 3 times, read at most 4 times.
            #expect(reader.bytesSearched <= 3 * Int64(bytes.count) + Int64(LineReader.windowSize))
            #expect(reader.bytesRead <= 4 * Int64(bytes.count) + Int64(LineReader.windowSize))
            #expect(elapsed < .seconds(2), "\(size) bytes took \(elapsed)")
        }
    }
}
