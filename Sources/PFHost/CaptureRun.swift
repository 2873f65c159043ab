import Dispatch
import Synchronization

/// One run of ``CaptureRunner``: captures started one by one, as each is ready, then waited for
/// together.
///
/// The snapshot starts a plugin's capture as soon as that plugin is loaded, so the first
/// captures run while the later plugins load. The rules are the runner's: the first capture to
/// fail cancels all the others, those started after it included. The timeout counts from
/// ``finish()``, once every plugin is loaded, as when all captures started together: a plugin slow
/// to load delays the snapshot without eating into the captures' time. Start captures from one
/// thread; ``finish()`` (or ``stop()`` then ``finish()``) from that thread once no more will start.
final class CaptureRun: Sendable {
    private let runner: CaptureRunner
    private let state: CaptureRunState
    private let finished = DispatchSemaphore(value: 0)
    private let started = Mutex<[Int: any CaptureTask]>([:])

    init(runner: CaptureRunner, count: Int) {
        self.runner = runner
        state = CaptureRunState(count: count)
    }

    /// Starts `task` as the run's task `index` (each index once, below the run's count). A task
    /// started after the run was cancelled is cancelled before it starts.
    func start(_ task: any CaptureTask, at index: Int) {
        started.withLock { started in
            precondition(started[index] == nil, "capture \(index) started twice")
            started[index] = task
        }
        // After the task is listed: a failure that cancels the run from now on cancels it too.
        if state.cancellation != nil { task.cancel() }
        task.start { [self] in
            let failed = if case .failure? = task.outcome?.result { true } else { false }
            if state.finished(index, plugin: task.plugin, failed: failed) {
                for (other, task) in started.withLock({ $0 }) where other != index { task.cancel() }
            }
            finished.signal()
        }
    }

    /// Cancels the captures started so far, for a snapshot the host refuses while they run;
    /// ``finish()`` then gives them the grace period to return.
    func stop() {
        guard state.cancel(.stopped) else { return }
        for task in started.withLock({ $0.values }) { task.cancel() }
    }

    /// Waits for every capture started, within the timeout from now (and the grace period once
    /// the run is cancelled), and reports them in the order of their indices.
    ///
    /// - Throws: ``CaptureTimeout`` naming the captures still running after the grace period that
    ///   could not be stopped, and the failures before them.
    func finish() throws(CaptureTimeout) -> CaptureRunner.Report {
        try runner.finish(state: state, finished: finished, started: started.withLock { $0 })
    }
}
