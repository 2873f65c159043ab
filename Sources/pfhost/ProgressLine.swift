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
                    value.1 > 0 ? "\(kind) \(value.0 * 100 / max(value.1, 1))%" : "\(kind) \(value.0)"
                }
                var standardError = StandardError()
                print("\r\u{1B}[K" + parts.joined(separator: "  "), terminator: "", to: &standardError)
            }
        }
    }

    func clear() {
        var standardError = StandardError()
        state.withLock { state in
            if !state.latest.isEmpty { print("\r\u{1B}[K", terminator: "", to: &standardError) }
        }
    }
}
