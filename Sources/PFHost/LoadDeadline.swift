import Dispatch

/// Bounds how long loading the plugins may take in pfhost's own process (a snapshot, a restore).
///
/// A constructor or entry point that never returns cannot be cancelled: it runs inside `dlopen`,
/// holding the loader's lock. So when the timeout passes while a plugin is still being loaded
/// (``ExitGuard/loading(_:_:)``), pfhost says which and ends with status 2; nothing is committed,
/// and the captures already running are abandoned with the process. A capture process
/// (`--isolate`) is bounded by its parent instead.
final class LoadDeadline: Sendable {
    private let done = DispatchSemaphore(value: 0)

    /// Starts the watch: `timeout` from now.
    init(timeout: Duration) {
        let done = done
        // Should no thread start, loading is unbounded, as a capture process's is not.
        _ = DetachedThread.start {
            guard done.wait(timeout: .now() + timeout.dispatchInterval) == .timedOut else { return }
            ExitGuard.shared.loadingOutlasted(timeout)
        }
    }

    /// Loading has ended: the watch stops.
    func met() { done.signal() }
}
