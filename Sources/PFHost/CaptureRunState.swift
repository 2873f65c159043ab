import Dispatch
import Synchronization

/// What ``CaptureRunner`` and the captures' completions share: which captures have finished,
/// whether the run was cancelled, why and when.
final class CaptureRunState: Sendable {
    private struct State {
        var cancellation: CaptureCancellation?
        var cancelledAt: DispatchTime?
        var finished: [Bool]
        /// Whether each capture finished after the run was cancelled.
        var finishedCancelled: [Bool]
    }

    private let state: Mutex<State>

    init(count: Int) {
        state = Mutex(State(finished: Array(repeating: false, count: count), finishedCancelled: Array(repeating: false, count: count)))
    }

    /// Records that task `index` finished. Returns true when its failure is the run's first and
    /// it has just cancelled the run (the caller then cancels the other captures).
    func finished(_ index: Int, plugin: LoadedPlugin, failed: Bool) -> Bool {
        state.withLock { state in
            state.finished[index] = true
            if state.cancellation != nil {
                state.finishedCancelled[index] = true
                return false
            }
            guard failed else { return false }
            state.cancellation = .failure(index: index, plugin: plugin)
            state.cancelledAt = .now()
            return true
        }
    }

    /// Cancels the run (at its deadline, or stopped by the host); false when it was cancelled already.
    func cancel(_ cause: CaptureCancellation) -> Bool {
        state.withLock { state in
            guard state.cancellation == nil else { return false }
            state.cancellation = cause
            state.cancelledAt = .now()
            return true
        }
    }

    /// Why and when the run was cancelled, if it was.
    var cancellation: (cause: CaptureCancellation, at: DispatchTime)? {
        state.withLock { state in state.cancellation.map { ($0, state.cancelledAt!) } }
    }

    /// Whether task `index` has finished.
    func hasFinished(_ index: Int) -> Bool { state.withLock { $0.finished[index] } }

    /// Whether task `index` finished after the run was cancelled.
    func finishedCancelled(_ index: Int) -> Bool { state.withLock { $0.finishedCancelled[index] } }
}
