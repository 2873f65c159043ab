import Dispatch

/// Bounds how long loading each plugin may take in pfhost's own process (a snapshot, a restore,
/// `pfhost plugins`).
///
/// A constructor or entry point that never returns cannot be cancelled: it runs inside `dlopen`,
/// holding the loader's lock. So when one plugin has been loading for the timeout
/// (``ExitGuard/loading(_:_:)``), pfhost says which and ends with status 2; nothing is committed,
/// and the captures already running end with the process. Each plugin gets the whole timeout,
/// as each capture process of `--isolate` does, which its parent bounds instead.
public final class LoadDeadline: Sendable {
    private let done = DispatchSemaphore(value: 0)

    /// Starts the watch. `beforeExit` runs just before pfhost ends for a plugin that outlasted
    /// `timeout` (the snapshot removes its temporary files there).
    public init(timeout: Duration, beforeExit: @escaping @Sendable () -> Void = {}) {
        let done = done
        // Should no thread start, loading is unbounded, as it was before.
        _ = DetachedThread.start {
            // Wakes no later than the moment the plugin loading then would outlast the timeout.
            var wake = DispatchTime.now() + timeout.dispatchInterval
            while done.wait(timeout: wake) == .timedOut {
                ExitGuard.shared.loadingOutlasted(timeout, beforeExit: beforeExit)
                let now = DispatchTime.now()
                wake = max(now, ExitGuard.shared.loadStarted.map { $0 + timeout.dispatchInterval } ?? now + timeout.dispatchInterval)
            }
        }
    }

    /// Loading has ended: the watch stops.
    public func met() { done.signal() }
}
