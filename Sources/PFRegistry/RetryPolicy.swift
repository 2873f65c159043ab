import PFSystem

/// Bounded retries with exponential backoff, for answers that say "try later" (429, 5xx) and
/// connections that fail or break.
public struct RetryPolicy: Sendable {
    /// How many times a request is sent at most.
    public var attempts: Int
    /// The wait before the second attempt, in milliseconds; it doubles before each next one.
    public var firstDelayMilliseconds: Int
    /// The longest wait, whatever `Retry-After` asks.
    public var maximumDelayMilliseconds: Int

    /// Four attempts, waiting 0.25 s, 0.5 s, 1 s (at most 5 s when the registry asks for more).
    public init(attempts: Int = 4, firstDelayMilliseconds: Int = 250, maximumDelayMilliseconds: Int = 5_000) {
        self.attempts = max(1, attempts)
        self.firstDelayMilliseconds = firstDelayMilliseconds
        self.maximumDelayMilliseconds = maximumDelayMilliseconds
    }

    /// Waits before attempt `attempt + 1` (attempt counts from 0); `retryAfter` is the
    /// registry's `Retry-After` in seconds, if it sent one.
    func wait(after attempt: Int, retryAfter: String? = nil) {
        var milliseconds = firstDelayMilliseconds << min(attempt, 16)
        if let retryAfter, let seconds = Int(retryAfter), seconds >= 0 {
            milliseconds = max(milliseconds, seconds.multipliedReportingOverflow(by: 1000).overflow ? Int.max : seconds * 1000)
        }
        SystemCalls().sleep(milliseconds: min(milliseconds, maximumDelayMilliseconds))
    }
}
