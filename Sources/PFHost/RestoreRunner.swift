import CPFPluginABI
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Runs plugin restores, one pthread per plugin, all started together, like ``CaptureRunner``.
///
/// At the deadline every context is cancelled (`cancelled()` turns non-zero and the restore
/// services fail with `PF_ERR_CANCELLED`); a restore that has still not returned after the grace
/// period fails the run, and since its thread cannot be killed, nothing it may still use is freed.
struct RestoreRunner {
    var timeout: Duration
    var grace: Duration

    /// One restore's outcome.
    struct Outcome {
        let context: RestoreContext
        let returnCode: Int32
        let milliseconds: Int64
    }

    /// Runs `contexts` in parallel and returns their outcomes in the same order, or the plugins
    /// still running after the grace period.
    func run(_ contexts: [RestoreContext]) -> Result<[Outcome], Hung> {
        let host = HostServices.table
        let finished = DispatchSemaphore(value: 0)
        let jobs = contexts.map { RestoreJob(context: $0, host: host, finished: finished) }
        for context in contexts { context.register() }
        for job in jobs { job.start() }

        let deadline = DispatchTime.now() + timeout.dispatchInterval
        var remaining = jobs.count
        while remaining > 0, finished.wait(timeout: deadline) == .success { remaining -= 1 }
        if remaining > 0 {
            for context in contexts { context.services.cancel() }
            let graceDeadline = DispatchTime.now() + grace.dispatchInterval
            while remaining > 0, finished.wait(timeout: graceDeadline) == .success { remaining -= 1 }
        }
        if remaining > 0 {
            // Leak the table and the contexts on purpose: hung restores may still use them.
            return .failure(Hung(plugins: jobs.filter { !$0.isFinished }.map(\.context.plugin)))
        }
        for context in contexts { context.unregister() }
        return .success(jobs.map { Outcome(context: $0.context, returnCode: $0.returnCode, milliseconds: $0.milliseconds) })
    }

    /// Restores that did not return.
    struct Hung: Error {
        let plugins: [LoadedPlugin]
    }
}

/// One restore on its own pthread.
private final class RestoreJob: @unchecked Sendable {
    // @unchecked: returnCode and milliseconds are written by the restore thread before it signals
    // `finished` and read only after the wait.
    let context: RestoreContext
    let host: UnsafePointer<pf_host>
    let finished: DispatchSemaphore
    private(set) var returnCode: Int32 = Int32(PF_ERR_INTERNAL)
    private(set) var milliseconds: Int64 = 0
    private let done = Atomic<Bool>(false)

    init(context: RestoreContext, host: UnsafePointer<pf_host>, finished: DispatchSemaphore) {
        self.context = context
        self.host = host
        self.finished = finished
    }

    var isFinished: Bool { done.load(ordering: .acquiring) }

    func start() {
        var thread = pthread_t()
        let argument = Unmanaged.passRetained(self).toOpaque()
        let status = pthread_create(&thread, nil, { argument in
            let job = Unmanaged<RestoreJob>.fromOpaque(argument!).takeRetainedValue()
            job.runOnThisThread()
            return nil
        }, argument)
        if status != 0 {
            Unmanaged<RestoreJob>.fromOpaque(argument).release()
            context.services.setError("the host could not start a thread: \(String(cString: strerror(status)))")
            returnCode = Int32(PF_ERR_INTERNAL)
            done.store(true, ordering: .releasing)
            finished.signal()
            return
        }
        pthread_detach(thread)
    }

    private func runOnThisThread() {
        let clock = ContinuousClock()
        let start = clock.now
        // Only plugins whose restoreRefusal is nil get here: their restore is not NULL.
        let restore = context.plugin.table.restore!
        returnCode = restore(host, context.handle, context.layerJSON, context.layerJSONLength)
        let elapsed = clock.now - start
        milliseconds = elapsed.saturatedMilliseconds
        done.store(true, ordering: .releasing)
        finished.signal()
    }
}
