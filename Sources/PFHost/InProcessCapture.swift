import CPFPluginABI
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A capture on a thread of this process: the plugin's `capture` called with the one
/// ``HostServices/table`` and a fresh `pf_ctx *` handle for its ``CaptureContext``.
///
/// As soon as `capture` returns, the handle is retired (a later call through it is refused), the
/// writers the plugin left open are aborted, and ``ExitGuard`` stops counting the capture.
final class InProcessCapture: CaptureTask {
    let context: CaptureContext

    private struct State {
        var outcome: (result: Result<CapturedLayer, CaptureFailure>, milliseconds: Int64)?
        var exitToken: Int?
        var abandoned = false
    }

    private let state = Mutex(State())

    init(context: CaptureContext) {
        self.context = context
    }

    var plugin: LoadedPlugin { context.plugin }

    var outcome: (result: Result<CapturedLayer, CaptureFailure>, milliseconds: Int64)? { state.withLock { $0.outcome } }

    var layerUnchanged: Bool { context.layerUnchanged }

    func start(whenFinished: @escaping @Sendable () -> Void) {
        let status = DetachedThread.start { [self] in
            runOnThisThread()
            whenFinished()
        }
        guard status != 0 else { return }
        context.setError("the host could not start a thread: \(String(cString: strerror(status)))")
        let result = context.finish(returnCode: Int32(PF_ERR_INTERNAL))
        state.withLock { $0.outcome = (result, 0) }
        whenFinished()
    }

    func cancel() { context.cancel() }

    func abandon() -> String? {
        let token = state.withLock { state -> Int? in
            state.abandoned = true
            return state.exitToken
        }
        if let token { ExitGuard.shared.leave(token) }
        return nil
    }

    private func runOnThisThread() {
        let token = ExitGuard.shared.enter(plugin)
        let abandoned = state.withLock { state -> Bool in
            state.exitToken = token
            return state.abandoned
        }
        if abandoned { ExitGuard.shared.leave(token) }
        let handle = HostHandles.contexts.register(context)
        let clock = ContinuousClock()
        let start = clock.now
        let code = plugin.table.capture!(HostServices.table, handle)
        let elapsed = clock.now - start
        HostHandles.contexts.retire(handle, owner: plugin.label, logger: context.logger)
        ExitGuard.shared.leave(token)
        let result = context.finish(returnCode: code)
        let milliseconds = elapsed.saturatedMilliseconds
        state.withLock { $0.outcome = (result, milliseconds) }
    }
}
