import CPFShims

/// What the process does when code it runs faults or raises a fatal signal.
public enum FatalSignals {
    /// Makes SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP and SIGSYS end the process by that
    /// signal, as the exit statuses promise, even when they were raised rather than faulted:
    /// Swift's crash backtracer still prints its report, and then the process ends. (Left alone, a
    /// plugin's `raise(SIGSEGV)` printed "Program crashed" and the snapshot went on and committed.)
    /// Call it once, first thing in `main`.
    ///
    /// - Returns: 0, or the `sigaction` errno.
    @discardableResult
    public static func endTheProcess() -> Int32 {
        pf_make_fatal_signals_fatal()
    }
}
