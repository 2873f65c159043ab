import PFModel
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One status line on stderr showing each layer's latest progress, redrawn at most 10 times
/// a second. Used only when stderr is a terminal.
final class ProgressLine: Sendable {
    private struct State {
        var latest: [LayerKind: (UInt64, UInt64)] = [:]
        var lastDraw = ContinuousClock.now - .seconds(1)
    }

    private let state = Mutex(State())

    var report: @Sendable (LayerKind, UInt64, UInt64) -> Void {
        { [self] kind, done, total in
            state.withLock { state in
                state.latest[kind] = (done, total)
                let now = ContinuousClock.now
                guard now - state.lastDraw >= .milliseconds(100) else { return }
                state.lastDraw = now
                let parts = state.latest.sorted { $0.key < $1.key }.map { kind, value in
                    value.1 > 0 ? "\(kind) \(Self.percent(value.0, of: value.1))%" : "\(kind) \(value.0)"
                }
                var standardError = StandardError()
                print("\r\u{1B}[K" + parts.joined(separator: "  "), terminator: "", to: &standardError)
            }
        }
    }

    /// `done` as a whole percentage of `total` (which is not 0), at most 100. Both come from a
    /// plugin and may be anything up to 2^64 - 1: the product is computed in 128 bits, and a
    /// plugin that reports more done than its total shows 100%.
    static func percent(_ done: UInt64, of total: UInt64) -> UInt64 {
        total.dividingFullWidth(min(done, total).multipliedFullWidth(by: 100)).quotient
    }

    func clear() {
        var standardError = StandardError()
        state.withLock { state in
            if !state.latest.isEmpty { print("\r\u{1B}[K", terminator: "", to: &standardError) }
        }
    }
}
