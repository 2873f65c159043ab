/// Reads a file line by line in 64 KiB chunks, so memory does not grow with the file.
///
/// ```swift
/// var reader = try LineReader(path: path)
/// while let line = try reader.next() { … line.number, line.bytes … }
/// ```
public struct LineReader {
    /// One line: its 1-based number, its bytes without the `\n`, and whether a `\n` ended it.
    public struct Line {
        public let number: Int
        public let bytes: [UInt8]
        public let terminated: Bool
        /// The bytes exactly as in the file.
        public var raw: [UInt8] { terminated ? bytes + [0x0a] : bytes }
    }

    private let file: ReadableFile
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    private var number = 0

    /// Opens `path`, or fails naming it.
    public init(path: String) throws(PluginError) {
        file = try ReadableFile(path: path)
    }

    /// Reads `file` (a blob a restore opened, say) from its start.
    public init(file: ReadableFile) {
        self.file = file
    }

    /// The next line, or nil at the end of the file.
    public mutating func next() throws(PluginError) -> Line? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0a) {
                let line = Array(buffer[start..<newline])
                start = newline + 1
                number += 1
                return Line(number: number, bytes: line, terminated: true)
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                let line = Array(buffer[start...])
                start = buffer.count
                number += 1
                return Line(number: number, bytes: line, terminated: false)
            }
            buffer.removeSubrange(0..<start)
            start = 0
            let chunk: [UInt8]
            do { chunk = try file.read(upTo: 64 << 10) } catch {
                throw .io("\(error.message) (after line \(number))")
            }
            if chunk.isEmpty { atEnd = true } else { buffer.append(contentsOf: chunk) }
        }
    }
}
