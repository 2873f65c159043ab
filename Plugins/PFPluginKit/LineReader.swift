import Foundation

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

    private let handle: FileHandle
    private let path: String
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    private var number = 0

    /// Opens `path`, or fails naming it.
    public init(path: String) throws(PluginError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .io("\(path): no such file")
        }
        guard !isDirectory.boolValue, let handle = FileHandle(forReadingAtPath: path) else {
            throw .io("\(path): cannot be read as a file")
        }
        self.handle = handle
        self.path = path
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
            let chunk: Data?
            do { chunk = try handle.read(upToCount: 64 << 10) } catch {
                throw .io("\(path): read failed after line \(number): \(error.localizedDescription)")
            }
            if let chunk, !chunk.isEmpty { buffer.append(contentsOf: chunk) } else { atEnd = true }
        }
    }
}
