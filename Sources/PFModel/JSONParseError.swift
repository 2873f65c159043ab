/// Where and why JSON could not be parsed.
public struct JSONParseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The byte offset of the problem.
    public let offset: Int
    /// What is wrong.
    public let message: String

    public var description: String { "invalid JSON at byte \(offset): \(message)" }
}
