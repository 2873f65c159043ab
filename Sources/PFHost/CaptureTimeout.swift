/// Captures that did not return in time and could not be stopped (threads of this process). They
/// may still be running: nothing was committed, and the process should exit.
public struct CaptureTimeout: Error, Sendable, CustomStringConvertible {
    /// The plugins still running.
    public let plugins: [LoadedPlugin]
    /// The timeout of the run.
    public let timeout: Duration
    /// How long they had to return once cancelled.
    public let grace: Duration
    /// The plugin whose failure cancelled the run; nil when the timeout did.
    public let cancelledBecause: LoadedPlugin?
    /// The captures that failed, the one that cancelled the run first.
    public let failures: [CaptureFailure]

    public var description: String {
        let running = plugins.map { plugin in
            if let cause = cancelledBecause {
                "plugin \(plugin.label) ignored cancellation for \(grace.shortDescription) after plugin \(cause.label) failed; nothing was committed (fix the plugin)"
            } else {
                "plugin \(plugin.label) did not finish within the \(timeout.shortDescription) timeout and ignored cancellation; nothing was committed (raise --timeout or fix the plugin)"
            }
        }
        return (failures.map(\.description) + running).joined(separator: "\n")
    }
}
