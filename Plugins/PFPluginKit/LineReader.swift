#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file line by line, in time linear in the file and memory bounded by the longest line.
///
/// ```swift
/// var reader = try LineReader(path: path)
/// while let line = try reader.next() { … line.number, line.bytes … }
/// ```
///
/// Lines are found in a 64 KiB window with `memchr`. A line longer than half the window is read
/// in two passes: one to find where it ends, one to read it whole into an array of exactly its
/// size, so a 100 MiB line costs 100 MiB of memory (not the 2× to 4× of a growing buffer and its
/// copy) and a few reads of the page cache. Each byte is searched at most three times and read
/// at most three times (window, search, the line's array), plus as much again as a long line past its
/// end: linear in the file, whatever its lines. A file that changes between the passes is
/// reported, never returned torn.
public struct LineReader {
    /// One line: its 1-based number, its bytes without the `\n`, and whether a `\n` ended it.
    public struct Line {
        public let number: Int
        public let bytes: [UInt8]
        public let terminated: Bool
        /// The bytes exactly as in the file (a copy: to store a line, hand the line itself to
        /// ``PluginBlobWriter``, which copies nothing).
        public var raw: [UInt8] { terminated ? bytes + [0x0a] : bytes }
        /// How many bytes of the file the line took, its `\n` included.
        public var size: Int { bytes.count + (terminated ? 1 : 0) }
    }

    private enum Source {
        case file(ReadableFile)
        case bytes([UInt8])
    }

    private let source: Source
    private let name: String
    private var window: [UInt8]
    /// The source offset of `window[0]`.
    private var windowStart: Int64 = 0
    /// How many bytes of `window` hold data.
    private var windowCount = 0
    /// The first byte of `window` not yet returned.
    private var position = 0
    /// Whether the window reaches the end of the source.
    private var atEnd = false
    private var number = 0
    /// Bytes pulled from the source, and bytes searched for a newline, for tests to check that
    /// the work is linear.
    private(set) var bytesRead: Int64 = 0
    private(set) var bytesSearched: Int64 = 0

    static let windowSize = 64 << 10
    static let scanSize = 1 << 20

    /// Opens `path`, or fails naming it.
    public init(path: String) throws(PluginError) {
        self.init(source: .file(try ReadableFile(path: path)), name: path)
    }

    /// Reads the lines of `bytes` (for checking data already in memory, and for tests and
    /// fuzzing); errors call it `name`.
    public init(bytes: [UInt8], name: String) {
        self.init(source: .bytes(bytes), name: name)
    }

    private init(source: Source, name: String) {
        self.source = source
        self.name = name
        window = [UInt8](repeating: 0, count: Self.windowSize)
    }

    /// Reads `file` (a blob a restore opened, say) from its start.
    public init(file: ReadableFile) {
        self.init(source: .file(file), name: file.path)
    }

    /// The next line, or nil at the end of the file.
    public mutating func next() throws(PluginError) -> Line? {
        while true {
            if let newline = searchWindow() {
                let bytes = Array(window[position..<newline])
                position = newline + 1
                number += 1
                return Line(number: number, bytes: bytes, terminated: true)
            }
            if atEnd {
                guard position < windowCount else { return nil }
                let bytes = Array(window[position..<windowCount])
                position = windowCount
                number += 1
                return Line(number: number, bytes: bytes, terminated: false)
            }
            if windowCount - position > Self.windowSize / 2 { return try readLongLine() }
            // Refill from the start of the partial line: it is at most half the window, so each
            // refill brings at least half a window of new bytes and the re-read part stays linear.
            try fill(from: windowStart + Int64(position))
        }
    }

    /// The index of the first `\n` in the unread part of the window.
    private mutating func searchWindow() -> Int? {
        guard position < windowCount else { return nil }
        let (start, count) = (position, windowCount - position)
        let found = window.withUnsafeBytes { raw in
            memchr(raw.baseAddress! + start, 0x0a, count).map { $0 - UnsafeMutableRawPointer(mutating: raw.baseAddress!) }
        }
        bytesSearched += Int64(found.map { $0 + 1 - start } ?? count)
        return found
    }

    /// Reads the window from source offset `offset`.
    private mutating func fill(from offset: Int64) throws(PluginError) {
        // Moved out for the read (which needs all of `self`), and back: no copy either way.
        var buffer: [UInt8] = []
        swap(&buffer, &window)
        defer { swap(&buffer, &window) }
        let count = try read(into: &buffer, at: offset)
        windowStart = offset
        windowCount = count
        position = 0
        atEnd = count < buffer.count
    }

    /// Fills `buffer` from source offset `offset`; fewer bytes only at the end of the source.
    private mutating func read(into buffer: inout [UInt8], at offset: Int64) throws(PluginError) -> Int {
        let count = try buffer.withUnsafeMutableBytes { raw in
            Result { () throws(PluginError) in try read(into: raw, at: offset) }
        }.get()
        return count
    }

    private mutating func read(into raw: UnsafeMutableRawBufferPointer, at offset: Int64) throws(PluginError) -> Int {
        let count: Int
        switch source {
        case .file(let file):
            do { count = try file.read(into: raw, at: offset) } catch {
                throw .io("\(error.message) (after line \(number))")
            }
        case .bytes(let bytes):
            let start = Int(clamping: min(offset, Int64(bytes.count)))
            count = min(raw.count, bytes.count - start)
            bytes.withUnsafeBytes { source in
                if count > 0 { raw.baseAddress!.copyMemory(from: source.baseAddress! + start, byteCount: count) }
            }
        }
        bytesRead += Int64(count)
        return count
    }

    /// Reads the line that starts at `window[position]` and does not end in the window.
    private mutating func readLongLine() throws(PluginError) -> Line {
        let lineStart = windowStart + Int64(position)
        // Pass 1: find the end, searching from where the window stops.
        var length = Int64(windowCount - position)
        var offset = windowStart + Int64(windowCount)
        var terminated = false
        var scan = [UInt8](repeating: 0, count: Self.scanSize)
        while true {
            // Reads grow with the line found so far, so that reading past its end costs at most
            // as much again as the line, however short or long it is.
            let wanted = min(scan.count, max(Self.windowSize, Int(clamping: length)))
            let count = try scan.withUnsafeMutableBytes { raw in
                Result { () throws(PluginError) in try read(into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<wanted]), at: offset) }
            }.get()
            let newline = scan.withUnsafeBytes { raw in
                memchr(raw.baseAddress!, 0x0a, count).map { $0 - UnsafeMutableRawPointer(mutating: raw.baseAddress!) }
            }
            bytesSearched += Int64(newline ?? count)
            if let newline {
                length += Int64(newline)
                terminated = true
                break
            }
            length += Int64(count)
            offset += Int64(count)
            if count < wanted { break }
        }
        scan = []
        // Pass 2: read it whole into an array of its exact size.
        guard let size = Int(exactly: length) else { throw .io("\(name): line \(number + 1) is too long to hold in memory") }
        var failure: PluginError?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            do throws(PluginError) {
                initialized = try read(into: UnsafeMutableRawBufferPointer(buffer), at: lineStart)
            } catch {
                failure = error
                initialized = 0
            }
        }
        if let failure { throw failure }
        bytesSearched += Int64(bytes.count)
        let torn = bytes.count != size || bytes.withUnsafeBytes { $0.baseAddress.map { memchr($0, 0x0a, size) != nil } ?? false }
        // Continue after the line; its `\n` must still be where pass 1 found it.
        try fill(from: lineStart + length)
        if terminated {
            guard !torn, windowCount > 0, window[0] == 0x0a else {
                throw .io("\(name) changed while it was read (at line \(number + 1)); retry the snapshot")
            }
            position = 1
        } else {
            guard !torn, windowCount == 0 else {
                throw .io("\(name) changed while it was read (at line \(number + 1)); retry the snapshot")
            }
        }
        number += 1
        return Line(number: number, bytes: bytes, terminated: terminated)
    }
}
