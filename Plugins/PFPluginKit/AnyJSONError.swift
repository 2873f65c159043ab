/// Where and why bytes are not one JSON document, as ``AnyJSON/parse(_:)`` found it.
///
/// Shown as `line 3, column 17: expected ',' or '}'`. Lines and columns count from 1; a column
/// counts bytes from the start of its line (a tab or a multi-byte character is more than one
/// column in an editor, but bytes are what every tool agrees on).
public struct AnyJSONError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The byte offset of the problem, from 0.
    public let offset: Int
    /// The line of the problem, from 1 (lines end at `\n`).
    public let line: Int
    /// The byte of the problem within its line, from 1.
    public let column: Int
    /// What is wrong, e.g. `number out of range`.
    public let reason: String

    /// The error at `offset` of `bytes`, its line and column counted there.
    init(reason: String, at offset: Int, in bytes: UnsafeBufferPointer<UInt8>) {
        var line = 1
        var lineStart = 0
        for index in 0..<min(offset, bytes.count) where bytes[index] == 0x0a {
            line += 1
            lineStart = index + 1
        }
        self.offset = offset
        self.line = line
        self.column = offset - lineStart + 1
        self.reason = reason
    }

    public var description: String { "line \(line), column \(column): \(reason)" }
}
