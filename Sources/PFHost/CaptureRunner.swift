import CPFPluginABI
import Dispatch
import PFModel
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Runs plugin captures, one pthread per plugin, all started together.
///
/// The wall time of a run is the slowest capture, not the sum. At the deadline every
/// context is cancelled (`cancelled()` turns non-zero, blob writes fail); a capture that has
/// still not returned after the grace period fails the run. Its thread cannot be killed, so
/// the caller must not commit and should exit: the runner never frees what a running
/// capture may still use.
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

    /// Runs `contexts` in parallel and returns their outcomes in the same order.
    ///
    /// - Throws: ``CaptureTimeout`` naming the plugins still running after the grace period.
    func run(_ contexts: [CaptureContext]) throws(CaptureTimeout) -> [Outcome] {
        let host = HostServices.makeTable()
        let finished = DispatchSemaphore(value: 0)
        let jobs = contexts.map { CaptureJob(context: $0, host: host, finished: finished) }
        for job in jobs { job.start() }

        let deadline = DispatchTime.now() + .nanoseconds(Self.nanoseconds(timeout))
        var remaining = jobs.count
        while remaining > 0, finished.wait(timeout: deadline) == .success { remaining -= 1 }
        if remaining > 0 {
            for context in contexts { context.cancel() }
            let graceDeadline = DispatchTime.now() + .nanoseconds(Self.nanoseconds(grace))
            while remaining > 0, finished.wait(timeout: graceDeadline) == .success { remaining -= 1 }
        }
        if remaining > 0 {
            // Leak the table and the contexts on purpose: hung captures may still use them.
            let hung = jobs.filter { !$0.isFinished }.map(\.context.plugin)
            throw CaptureTimeout(plugins: hung, timeout: timeout)
        }
        host.deallocate()
        return jobs.map { job in
            Outcome(plugin: job.context.plugin, result: job.context.finish(returnCode: job.returnCode),
                    milliseconds: job.milliseconds)
        }
    }

    /// `duration` in nanoseconds, clamped to 0...Int.max: a request may hold any duration,
    /// negative or centuries long, and neither may trap.
    static func nanoseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        let (whole, overflow) = Int(clamping: seconds).multipliedReportingOverflow(by: 1_000_000_000)
        let (total, carry) = whole.addingReportingOverflow(Int(attoseconds / 1_000_000_000))
        return overflow || carry ? Int.max : total
    }

    /// `duration` in whole milliseconds, saturated at the ends of `Int64`.
    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        guard !overflow else { return seconds < 0 ? Int64.min : Int64.max }
        let (total, carry) = whole.addingReportingOverflow(attoseconds / 1_000_000_000_000_000)
        return carry ? (seconds < 0 ? Int64.min : Int64.max) : total
    }
}

/// One capture on its own pthread.
private final class CaptureJob {
    let context: CaptureContext
    let host: UnsafePointer<pf_host>
    let finished: DispatchSemaphore
    // Written by the capture thread before it signals `finished`, read after the wait.
    private(set) var returnCode: Int32 = Int32(PF_ERR_INTERNAL)
    private(set) var milliseconds: Int64 = 0
    private let done = Atomic<Bool>(false)

    init(context: CaptureContext, host: UnsafeMutablePointer<pf_host>, finished: DispatchSemaphore) {
        self.context = context
        self.host = UnsafePointer(host)
        self.finished = finished
    }

    /// Whether the capture has returned.
    var isFinished: Bool { done.load(ordering: .acquiring) }

    func start() {
        var thread = pthread_t()
        let argument = Unmanaged.passRetained(self).toOpaque()
        let status = pthread_create(&thread, nil, { argument in
            let job = Unmanaged<CaptureJob>.fromOpaque(argument!).takeRetainedValue()
            job.runOnThisThread()
            return nil
        }, argument)
        if status != 0 {
            Unmanaged<CaptureJob>.fromOpaque(argument).release()
            context.setError("the host could not start a thread: \(String(cString: strerror(status)))")
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
        let capture = context.plugin.table.capture!
        returnCode = capture(host, context.opaque)
        let elapsed = clock.now - start
        milliseconds = CaptureRunner.milliseconds(elapsed)
        done.store(true, ordering: .releasing)
        finished.signal()
    }
}
