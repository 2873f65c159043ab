import Dispatch

extension Duration {
    /// The duration as Dispatch measures it (nanoseconds, capped so a deadline cannot overflow).
    var dispatchInterval: DispatchTimeInterval {
        let (seconds, attoseconds) = components
        return .nanoseconds(Int(min(seconds, Int64(Int.max / 1_000_000_000 - 1))) * 1_000_000_000 + Int(attoseconds / 1_000_000_000))
    }
}
