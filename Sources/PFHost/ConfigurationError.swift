/// A config file or `--set` option that cannot be used.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    /// The config file, or nil for a command-line option.
    public let file: String?
    /// What is wrong.
    public let message: String

    public var description: String {
        file.map { "config file \($0): \(message)" } ?? message
    }
}
