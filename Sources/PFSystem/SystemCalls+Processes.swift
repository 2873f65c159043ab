import CPFShims
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Child processes: the calls `pfhost snapshot --isolate` uses to run each plugin in a process of
/// its own. Not subject to the fault hook (they are not file-system calls).
extension SystemCalls {
    /// A pipe whose two ends are closed on `exec`: `read` reads what is written to `write`.
    public func makePipe() throws(SystemCallError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard pf_pipe_cloexec(&fds) == 0 else { throw SystemCallError(operation: "pipe", path: "-", code: errno) }
        return (fds[0], fds[1])
    }

    /// Makes reads and writes on `fd` fail with `EAGAIN` rather than wait.
    public func setNonBlocking(_ fd: Int32) throws(SystemCallError) {
        guard pf_set_nonblocking(fd) == 0 else { throw SystemCallError(operation: "fcntl", path: "fd \(fd)", code: errno) }
    }

    /// Starts `executable` (no shell, no `PATH` search) with `arguments` (the first is its
    /// `argv[0]`) and `environment` (`KEY=VALUE` strings). Its stdin and stdout are the given
    /// descriptors, its stderr is this process's, and it inherits no other descriptor. It runs in
    /// a process group of its own (see ``signalGroup(_:_:)``), with every signal's default action
    /// and an empty signal mask.
    ///
    /// - Returns: its pid. Wait for it with ``waitForEnd(of:blocking:)`` and ``reap(_:)``.
    public func spawn(_ executable: String, arguments: [String], environment: [String],
                      standardInput: Int32, standardOutput: Int32) throws(SystemCallError) -> pid_t {
        func cStrings(_ strings: [String]) -> [UnsafeMutablePointer<CChar>?] { strings.map { strdup($0) } + [nil] }
        let argv = cStrings(arguments), envp = cStrings(environment)
        defer { for pointer in argv + envp { free(pointer) } }
        var pid: Int32 = 0
        let status = pf_spawn(executable, argv, envp, standardInput, standardOutput, &pid)
        guard status == 0 else { throw SystemCallError(operation: "posix_spawn", path: executable, code: status) }
        return pid
    }

    /// Waits until the child `pid` has ended, without reaping it: until ``reap(_:)`` its pid
    /// stays taken, so nothing else can get it while the caller cleans up after it.
    ///
    /// - Parameter blocking: false to return nil at once when it is still running.
    public func waitForEnd(of pid: pid_t, blocking: Bool = true) throws(SystemCallError) -> ProcessEnd? {
        var status: Int32 = 0, signal: Int32 = 0, core: Int32 = 0
        switch pf_wait_ended(pid, blocking ? 0 : 1, &status, &signal, &core) {
        case 1: return signal == 0 ? .exited(status) : .signalled(signal, coreDumped: core != 0)
        case 0: return nil
        default: throw SystemCallError(operation: "waitid", path: "pid \(pid)", code: errno)
        }
    }

    /// Reaps the ended child `pid` (after ``waitForEnd(of:blocking:)``); its pid is free again.
    public func reap(_ pid: pid_t) {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    /// Sends `signal` to every process in the group `group` (a child started by
    /// ``spawn(_:arguments:environment:standardInput:standardOutput:)`` leads a group of its own
    /// whose id is its pid). A group that is gone is not an error.
    public func signalGroup(_ group: pid_t, _ signal: Int32) {
        _ = kill(-group, signal)
        _ = kill(group, signal)
    }

    /// Has the kernel send `signal` to this process when its parent ends, and returns false when
    /// the parent is already gone (its pid is no longer `parent`).
    public static func dieWithParent(_ parent: pid_t, signal: Int32) -> Bool {
        _ = pf_set_parent_death_signal(signal)
        return getppid() == parent
    }

    /// Blocks `SIGPIPE` in the calling thread: a write to a pipe whose reader is gone then fails
    /// with `EPIPE` instead of killing the process.
    public static func blockBrokenPipeSignalInThisThread() {
        _ = pf_block_sigpipe_in_thread()
    }
}
