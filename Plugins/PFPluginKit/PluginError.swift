import CPFPluginABI

/// A capture failure: the `PF_ERR_*` code to return and the message for `set_error`.
///
/// ```swift
/// throw PluginError.invalid("\(path): line 7: unknown role 'robot'")
/// ```
public struct PluginError: Error, Sendable, CustomStringConvertible {
    /// The `PF_ERR_*` code.
    public let code: Int32
    /// What went wrong, naming the file (and line or offset) where there is one.
    public let message: String

    /// An error with an explicit code.
    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    /// Bad input: a malformed file, a missing setting (`PF_ERR_INVALID`).
    public static func invalid(_ message: String) -> PluginError { PluginError(code: Int32(PF_ERR_INVALID), message: message) }
    /// A failed read or write (`PF_ERR_IO`).
    public static func io(_ message: String) -> PluginError { PluginError(code: Int32(PF_ERR_IO), message: message) }
    /// The host asked the capture to stop (`PF_ERR_CANCELLED`).
    public static let cancelled = PluginError(code: Int32(PF_ERR_CANCELLED), message: "cancelled by the host")

    public var description: String { message }
}
