import CPFPluginABI

/// Why a capture fails: a `PF_ERR_*` code and a message naming the file (and line or offset).
public struct PluginFailure: Error, Sendable {
    public let code: Int32
    public let message: String

    public init(_ code: Int32, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `PF_ERR_INVALID`: bad input.
    public static func invalid(_ message: String) -> PluginFailure { PluginFailure(Int32(PF_ERR_INVALID), message) }
    /// `PF_ERR_IO`: reading or writing failed.
    public static func io(_ message: String) -> PluginFailure { PluginFailure(Int32(PF_ERR_IO), message) }
}
