import Dispatch

extension Duration {
    /// The duration in nanoseconds, clamped to `0...Int.max`: a request may hold any duration,
    /// negative or centuries long, and neither may trap.
    var clampedNanoseconds: Int {
        let (seconds, attoseconds) = components
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        let (whole, overflow) = Int(clamping: seconds).multipliedReportingOverflow(by: 1_000_000_000)
        let (total, carry) = whole.addingReportingOverflow(Int(attoseconds / 1_000_000_000))
        return overflow || carry ? Int.max : total
    }

    /// The duration in whole milliseconds, saturated at the ends of `Int64`.
    var saturatedMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        guard !overflow else { return seconds < 0 ? Int64.min : Int64.max }
        let (total, carry) = whole.addingReportingOverflow(attoseconds / 1_000_000_000_000_000)
        return carry ? (seconds < 0 ? Int64.min : Int64.max) : total
    }

    /// The duration as Dispatch measures it (nanoseconds, clamped: see ``clampedNanoseconds``).
    var dispatchInterval: DispatchTimeInterval { .nanoseconds(clampedNanoseconds) }
}
