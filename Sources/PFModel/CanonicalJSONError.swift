/// A value that has no canonical JSON form.
public struct CanonicalJSONError: Error, Sendable, CustomStringConvertible {
    /// What is wrong.
    public let message: String

    public var description: String { message }
}
