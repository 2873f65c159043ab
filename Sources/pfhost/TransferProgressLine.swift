import PFModel
import Synchronization

/// `push` and `pull`'s status line on stderr (`pfhost: pushing 12.3 MiB of 101.6 MiB (12%)`),
/// redrawn at most 10 times a second. Used only when stderr is a terminal.
final class TransferProgressLine: Sendable {
    private let verb: String
    private let lastDraw = Mutex<(time: ContinuousClock.Instant, drawn: Bool)>((ContinuousClock.now - .seconds(1), false))

    init(verb: String) { self.verb = verb }

    /// The callback for ``PFRegistry/TransferOptions/progress``.
    var report: @Sendable (Int64, Int64) -> Void {
        { [self] done, total in
            lastDraw.withLock { state in
                let now = ContinuousClock.now
                guard now - state.time >= .milliseconds(100) || done == total else { return }
                state = (now, true)
                let percent = total > 0 ? ProgressLine.percent(UInt64(done), of: UInt64(total)) : 100
                var standardError = StandardError()
                print("\r\u{1B}[Kpfhost: \(verb) \(Formatting.bytes(done)) of \(Formatting.bytes(total)) (\(percent)%)", terminator: "", to: &standardError)
            }
        }
    }

    /// Erases the line, if it was drawn.
    func clear() {
        lastDraw.withLock { state in
            guard state.drawn else { return }
            var standardError = StandardError()
            print("\r\u{1B}[K", terminator: "", to: &standardError)
        }
    }
}
