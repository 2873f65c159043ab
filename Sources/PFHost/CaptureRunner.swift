import Dispatch
import PFModel

/// Runs plugin captures in parallel: threads of this process or child processes.
///
/// The wall time of a run is the slowest capture, not the sum. The first capture to fail (a
/// non-OK return, or OK without a valid layer, or a crashed capture process) cancels all the
/// others at once, so a snapshot that cannot succeed fails promptly; so does the deadline. A
/// cancelled capture sees `cancelled()` turn non-zero and its blob writes fail with
/// `PF_ERR_CANCELLED`, and gets the grace period to return. One that still has not returned is
/// abandoned: a capture process is killed and the run carries on to report it; a thread cannot be
/// killed, so the run throws ``CaptureTimeout``, and the caller must not commit and should exit:
/// the runner never frees what a running capture may still use.
struct CaptureRunner {
    /// How long captures may run.
    var timeout: Duration
    /// How long cancelled captures get to return.
    var grace: Duration

    /// One capture's outcome.
    struct Outcome {
        let plugin: LoadedPlugin
        let result: Result<CapturedLayer, CaptureFailure>
        let milliseconds: Int64
    }

    /// What a run produced.
    struct Report {
        /// Every capture's outcome, in the order of the tasks.
        let outcomes: [Outcome]
        /// The failures: first the one that cancelled the run, if a failure did, then the others in
        /// the order of the tasks, each marked when it came after the run was cancelled.
        let failures: [CaptureFailure]
    }

    /// How long a killed capture process may take to be gone before the run gives up on it.
    static let killWait = Duration.seconds(10)

    /// A run of at most `count` captures, each started when its caller has it ready
    /// (``CaptureRun/start(_:at:)``), so that a capture need not wait for the plugins loaded after it.
    func start(count: Int) -> CaptureRun { CaptureRun(runner: self, count: count) }

    /// Waits for the `started` tasks of a ``CaptureRun`` and reports them (``CaptureRun/finish()``).
    func finish(state: CaptureRunState, finished: DispatchSemaphore,
                started: [Int: any CaptureTask]) throws(CaptureTimeout) -> Report {
        let tasks = started.sorted { $0.key < $1.key }
        let timeoutDeadline = DispatchTime.now() + timeout.dispatchInterval
        var remaining = tasks.count
        while remaining > 0 {
            let deadline = state.cancellation.map { $0.at + grace.dispatchInterval } ?? timeoutDeadline
            if finished.wait(timeout: deadline) == .success {
                remaining -= 1
                continue
            }
            guard state.cancellation == nil else { break }
            if state.cancel(.deadline) {
                for (_, task) in tasks { task.cancel() }
            }
        }

        // Captures that ignored cancellation for the whole grace period.
        var stopped: [Int: String] = [:]
        if remaining > 0 {
            var unstoppable = false
            for (index, task) in tasks where !state.hasFinished(index) {
                if let how = task.abandon() { stopped[index] = how } else { unstoppable = true }
            }
            if !unstoppable {
                let limit = DispatchTime.now() + Self.killWait.dispatchInterval
                while remaining > 0, finished.wait(timeout: limit) == .success { remaining -= 1 }
            }
        }
        let cause = state.cancellation?.cause ?? .deadline
        let report = Self.report(tasks, state: state, cause: cause, stopped: stopped, timeout: timeout, grace: grace)
        if remaining > 0 {
            let running = tasks.filter { !state.hasFinished($0.key) }.map(\.value.plugin)
            let cancelledBecause: LoadedPlugin? = if case .failure(_, let plugin) = cause { plugin } else { nil }
            throw CaptureTimeout(plugins: running, timeout: timeout, grace: grace, cancelledBecause: cancelledBecause,
                                 failures: report.failures)
        }
        return report
    }

    /// The outcomes of the finished tasks, failures marked and ordered.
    private static func report(_ tasks: [(key: Int, value: any CaptureTask)], state: CaptureRunState, cause: CaptureCancellation,
                               stopped: [Int: String], timeout: Duration, grace: Duration) -> Report {
        var outcomes: [Outcome] = []
        var failures: [(index: Int, failure: CaptureFailure)] = []
        for (index, task) in tasks where state.hasFinished(index) {
            guard let outcome = task.outcome else { continue }
            var result = outcome.result
            if let how = stopped[index] {
                let message = switch cause {
                case .deadline:
                    "did not finish within the \(timeout.shortDescription) timeout and ignored cancellation for \(grace.shortDescription); \(how)"
                case .failure(_, let plugin):
                    "ignored cancellation for \(grace.shortDescription) after plugin \(plugin.label) failed; \(how)"
                case .stopped:
                    "ignored cancellation for \(grace.shortDescription) after the snapshot was refused; \(how)"
                }
                result = .failure(CaptureFailure(plugin: task.plugin, message: message))
            } else if case .failure(let failure) = result, state.finishedCancelled(index) {
                result = .failure(CaptureFailure(plugin: failure.plugin, message: "\(failure.message) (\(cause.mark(timeout: timeout)))"))
            }
            if case .failure(let failure) = result { failures.append((index, failure)) }
            outcomes.append(Outcome(plugin: task.plugin, result: result, milliseconds: outcome.milliseconds))
        }
        if case .failure(let first, _) = cause, let position = failures.firstIndex(where: { $0.index == first }) {
            failures.insert(failures.remove(at: position), at: 0)
        }
        return Report(outcomes: outcomes, failures: failures.map(\.failure))
    }
}
