/// Captures that did not return in time.
public struct CaptureTimeout: Error, Sendable, CustomStringConvertible {
    /// The plugins still running.
    public let plugins: [LoadedPlugin]
    /// The timeout that passed.
    public let timeout: Duration

    public var description: String {
        plugins.map { "plugin \($0.label) did not finish within the \(timeout.components.seconds)s timeout and ignored cancellation; nothing was committed (raise --timeout or fix the plugin)" }
            .joined(separator: "\n")
    }
}
