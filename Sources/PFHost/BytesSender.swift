import Synchronization

/// A capture process's count of the bytes its capture stores, sent to the parent as `bytes`
/// messages at most ten times a second (a message per blob writer call would flood the pipe), and
/// once more with the rest before the process answers.
final class BytesSender: Sendable {
    private struct State {
        var unsent: UInt64 = 0
        var lastSent: ContinuousClock.Instant?
    }

    private let channel: MessageChannel
    private let state = Mutex(State())

    init(channel: MessageChannel) {
        self.channel = channel
    }

    /// Counts `count` more bytes, sending the count so far when the last message is 100 ms old.
    func add(_ count: UInt64) {
        let now = ContinuousClock.now
        let send: UInt64? = state.withLock { state in
            let (sum, overflow) = state.unsent.addingReportingOverflow(count)
            state.unsent = overflow ? .max : sum
            guard state.lastSent.map({ now - $0 >= .milliseconds(100) }) ?? true else { return nil }
            state.lastSent = now
            defer { state.unsent = 0 }
            return state.unsent
        }
        if let send { channel.send(.bytes(send)) }
    }

    /// Sends what was counted and not sent yet.
    func flush() {
        let rest = state.withLock { state in
            defer { state.unsent = 0 }
            return state.unsent
        }
        if rest > 0 { channel.send(.bytes(rest)) }
    }
}
