import CPFPluginABI
import Dispatch
import Logging
import PFModel
import PFStore
import PFSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// pfhost's side of one capture process (`--isolate`, see ``CaptureProcess``): it starts the
/// process, learns which plugin it loaded, sends it the request, cancels it by closing its stdin,
/// kills its process group when it ignores that, and turns how it ended into the capture's
/// outcome.
///
/// One thread per process watches its pipes (with `poll`): it writes the request, reads the
/// messages, and, once the process has ended, waits for it without reaping it
/// (`waitid(WNOWAIT)`), removes the temporary files it left in `ingest/` (its owner lock ended
/// with it: ``SnapshotStore/reclaimAbandonedFiles(dryRun:)``), then reaps it. A layer it hands back is checked here again with ``LayerValidator``, against the store
/// as this process sees it, before it counts.
final class PluginProcess: CaptureTask {
    /// The plugin's file, as the user named it.
    let file: String
    /// The process's pid, which is also its process group's id.
    let pid: pid_t
    private let store: SnapshotStore
    private let logger: Logger
    /// Our ends of its stdin and stdout, and of the pipe that wakes the watcher.
    private let requestFD: Int32
    private let messagesFD: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let loaded = DispatchSemaphore(value: 0)
    private let ended = DispatchSemaphore(value: 0)
    private let state = Mutex(State())

    /// The longest message line accepted (a layer JSON, in Base64).
    static let lineLimit = 256 << 20

    private struct State {
        var plugin: Result<LoadedPlugin, PluginRefusal>?
        /// The request, until ``start(whenFinished:)``.
        var prepared: [UInt8] = []
        /// The parent's layer the request carries: what the layer handed back is compared with.
        var parentLayer: [UInt8]?
        var onProgress: (@Sendable (LayerKind, UInt64, UInt64) -> Void)?
        var onBytes: (@Sendable (LayerKind, UInt64) -> Void)?
        /// The request being written, and how much of it is.
        var request: [UInt8] = []
        var requestWritten = 0
        var requestOpen = true
        var started = false
        var startedAt: ContinuousClock.Instant?
        var cancelled = false
        var dismissed = false
        var whenFinished: (@Sendable () -> Void)?
        var reply: CaptureMessage?
        var exitCall: (onCaptureThread: Bool, message: String)?
        var protocolError: String?
        var killed = false
        var reaped = false
        /// The wake pipe is closed: its descriptor numbers may belong to another file by now.
        var wakeClosed = false
        var outcome: (result: Result<CapturedLayer, CaptureFailure>, milliseconds: Int64)?
    }

    private init(file: String, pid: pid_t, store: SnapshotStore, logger: Logger, requestFD: Int32, messagesFD: Int32,
                 wake: (read: Int32, write: Int32)) {
        self.file = file
        self.pid = pid
        self.store = store
        self.logger = logger
        self.requestFD = requestFD
        self.messagesFD = messagesFD
        wakeRead = wake.read
        wakeWrite = wake.write
    }

    /// Starts `executable capture-plugin …` for `options.file`.
    ///
    /// - Parameter environment: the process's environment, `KEY=VALUE` strings.
    static func spawn(executable: String, options: CaptureProcessOptions, store: SnapshotStore, logger: Logger,
                      environment: [String]) throws(SystemCallError) -> PluginProcess {
        let system = SystemCalls()
        var descriptors: [Int32] = []
        defer { for fd in descriptors { close(fd) } }
        let request = try system.makePipe()
        descriptors += [request.read, request.write]
        let messages = try system.makePipe()
        descriptors += [messages.read, messages.write]
        let wake = try system.makePipe()
        descriptors += [wake.read, wake.write]
        for fd in [request.write, messages.read, wake.read, wake.write] { try system.setNonBlocking(fd) }
        let pid = try system.spawn(executable, arguments: ["pfhost"] + options.arguments, environment: environment,
                                   standardInput: request.read, standardOutput: messages.write)
        // From here on the process owns the descriptors it keeps; the child's ends close here.
        descriptors = [request.read, messages.write]
        let process = PluginProcess(file: options.file, pid: pid, store: store, logger: logger, requestFD: request.write,
                                    messagesFD: messages.read, wake: wake)
        let status = DetachedThread.start { process.watch() }
        guard status == 0 else {
            system.signalGroup(pid, SIGKILL)
            _ = try? system.waitForEnd(of: pid)
            system.reap(pid)
            descriptors += [request.write, messages.read, wake.read, wake.write]
            throw SystemCallError(operation: "pthread_create", path: options.file, code: status)
        }
        return process
    }

    // MARK: Loading

    /// Waits until the process has said which plugin it loaded (or refused it, or ended) or
    /// `deadline` passes; then kills it.
    func waitUntilLoaded(deadline: DispatchTime, timeout: Duration) -> Result<LoadedPlugin, PluginRefusal> {
        if loaded.wait(timeout: deadline) == .timedOut {
            state.withLock { state in
                if state.plugin == nil {
                    state.plugin = .failure(.reported(file: file, reason: "its capture process did not load it within the \(timeout.shortDescription) timeout; the process was killed"))
                }
            }
            kill()
        }
        return state.withLock { $0.plugin! }
    }

    /// The plugin it loaded.
    var plugin: LoadedPlugin {
        guard case .success(let plugin)? = state.withLock({ $0.plugin }) else { preconditionFailure("\(file) was not loaded") }
        return plugin
    }

    /// Sets what ``start(whenFinished:)`` sends.
    func prepare(_ request: CaptureRequest, onProgress: (@Sendable (LayerKind, UInt64, UInt64) -> Void)?,
                 onBytes: (@Sendable (LayerKind, UInt64) -> Void)? = nil) {
        state.withLock { state in
            state.prepared = request.line
            state.parentLayer = request.parentLayer
            state.onProgress = onProgress
            state.onBytes = onBytes
        }
    }

    /// Ends a process that will not capture: closes its stdin before any request (it exits), or
    /// kills it after `grace`; waits for it at most ``CaptureRunner/killWait`` more.
    func dismiss(grace: Duration) {
        state.withLock { $0.dismissed = true }
        wakeWatcher()
        if ended.wait(timeout: .now() + grace.dispatchInterval) == .timedOut {
            kill()
            _ = ended.wait(timeout: .now() + CaptureRunner.killWait.dispatchInterval)
        }
        ended.signal()
    }

    // MARK: CaptureTask

    var outcome: (result: Result<CapturedLayer, CaptureFailure>, milliseconds: Int64)? { state.withLock { $0.outcome } }

    /// False: a layer handed back by a capture process is always stored afresh.
    var layerUnchanged: Bool { false }

    func start(whenFinished: @escaping @Sendable () -> Void) {
        let finishedAlready = state.withLock { state -> Bool in
            state.started = true
            state.startedAt = .now
            state.request = state.prepared
            state.whenFinished = whenFinished
            return state.outcome != nil
        }
        if finishedAlready { whenFinished() } else { wakeWatcher() }
    }

    func cancel() {
        state.withLock { $0.cancelled = true }
        wakeWatcher()
    }

    func abandon() -> String? {
        kill()
        return "its process was killed with SIGKILL"
    }

    /// Kills the process group, unless the process has been reaped (its pid may be reused).
    private func kill() {
        state.withLock { state in
            guard !state.reaped else { return }
            state.killed = true
            SystemCalls().signalGroup(pid, SIGKILL)
        }
    }

    /// Wakes the watcher from its `poll`, unless it has finished (a cancel often comes after).
    private func wakeWatcher() {
        state.withLock { state in
            guard !state.wakeClosed else { return }
            var byte: UInt8 = 1
            _ = write(wakeWrite, &byte, 1)
        }
    }

    // MARK: The watcher

    private func watch() {
        SystemCalls.blockBrokenPipeSignalInThisThread()
        let system = SystemCalls()
        var lines = LineBuffer(limit: Self.lineLimit)
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        var open = true
        while open {
            let writing = state.withLock { $0.requestOpen && $0.requestWritten < $0.request.count }
            var fds = [pollfd(fd: messagesFD, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            if writing { fds.append(pollfd(fd: requestFD, events: Int16(POLLOUT), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), 250)
            if ready < 0 && errno != EINTR { break }
            while read(wakeRead, &chunk, chunk.count) > 0 {}
            feedRequest()
            if ready == 0 {
                // Quiet: it may have ended while something it started still holds its stdout.
                if (try? system.waitForEnd(of: pid, blocking: false)) ?? nil != nil {
                    _ = readMessages(&lines, &chunk)
                    break
                }
                continue
            }
            if ready > 0 && fds[0].revents != 0 { open = readMessages(&lines, &chunk) }
        }
        finish()
    }

    /// Writes what it can of the request; closes its stdin once it is written and the capture is
    /// cancelled, or at once when the process is dismissed.
    private func feedRequest() {
        state.withLock { state in
            guard state.requestOpen else { return }
            while state.requestWritten < state.request.count {
                let offset = state.requestWritten
                let written = state.request.withUnsafeBytes { write(requestFD, $0.baseAddress! + offset, $0.count - offset) }
                if written > 0 {
                    state.requestWritten += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else if written < 0 && errno == EAGAIN {
                    return
                } else {
                    // It closed its stdin, or has ended: how it ended tells what happened.
                    state.requestWritten = state.request.count
                }
            }
            if (state.cancelled && state.started) || state.dismissed || state.killed {
                close(requestFD)
                state.requestOpen = false
            }
        }
    }

    /// Reads and handles what has arrived; false at the end of its stdout.
    private func readMessages(_ lines: inout LineBuffer, _ chunk: inout [UInt8]) -> Bool {
        while true {
            let count = chunk.withUnsafeMutableBytes { read(messagesFD, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 && errno == EAGAIN { return true }
            guard count > 0 else { return false }
            chunk.withUnsafeBytes { lines.append(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            while let line = lines.nextLine() { handle(line) }
            if lines.overflowed {
                breakProtocol("a message longer than \(Self.lineLimit) bytes")
                return false
            }
        }
    }

    private func breakProtocol(_ problem: String) {
        state.withLock { state in
            if state.protocolError == nil { state.protocolError = problem }
        }
        kill()
    }

    private func handle(_ line: ArraySlice<UInt8>) {
        guard let message = CaptureMessage(line: line) else {
            breakProtocol("a line that is not a message: \(String(decoding: line.prefix(200), as: UTF8.self))")
            return
        }
        switch message {
        case .plugin(let kind, let id, let version, let description, let major, let minor, let settings, let buildIdentity):
            // The table stays in the capture process: this copy is empty.
            let loadedPlugin = LoadedPlugin(table: pf_plugin(), file: file, kind: kind, id: id, version: version,
                                            description: description, abiMajor: major, abiMinor: minor,
                                            settings: settings, buildIdentity: buildIdentity)
            state.withLock { state in
                if state.plugin == nil { state.plugin = .success(loadedPlugin) }
            }
            loaded.signal()
        case .refused(let reason):
            state.withLock { state in
                if state.plugin == nil { state.plugin = .failure(.reported(file: file, reason: reason)) }
            }
            loaded.signal()
        case .log(let level, let text, let metadata):
            logger.log(level: level, "\(text)", metadata: metadata.mapValues { .string($0) })
        case .progress(let done, let total):
            let (report, plugin) = state.withLock { ($0.onProgress, $0.plugin) }
            if let report, case .success(let plugin)? = plugin { report(plugin.kind, done, total) }
        case .bytes(let count):
            let (report, plugin) = state.withLock { ($0.onBytes, $0.plugin) }
            if let report, case .success(let plugin)? = plugin { report(plugin.kind, count) }
        case .exit(let onCaptureThread, let text):
            state.withLock { $0.exitCall = (onCaptureThread, text) }
        case .layer, .failed:
            state.withLock { $0.reply = message }
        }
    }

    /// The process has ended (or closed its stdout): wait for it, clean up after it, reap it,
    /// and decide the outcome.
    private func finish() {
        let system = SystemCalls()
        let end = (try? system.waitForEnd(of: pid)) ?? nil
        do {
            // Its owner lock died with it, so its files are abandoned now (and nobody else's are).
            let removed = try store.reclaimAbandonedFiles()
            if removed.files > 0 { logger.debug("removed \(removed.files) temporary file(s) the capture process of \(file) left in ingest/") }
        } catch {
            logger.warning("could not remove the temporary files the capture process of \(file) left: \(error)")
        }
        let final = state.withLock { state -> State in
            system.reap(pid)
            state.reaped = true
            if state.requestOpen {
                close(requestFD)
                state.requestOpen = false
            }
            if state.plugin == nil {
                let how = end.map { "its capture process \(Self.describe($0)) before loading it (in the library's constructors?)" }
                    ?? "its capture process ended before loading it"
                state.plugin = .failure(.reported(file: file, reason: how))
            }
            return state
        }
        close(messagesFD)
        loaded.signal()
        var outcome: (result: Result<CapturedLayer, CaptureFailure>, milliseconds: Int64)?
        if case .success(let plugin)? = final.plugin {
            outcome = Self.outcome(of: final, plugin: plugin, end: end, store: store)
        }
        let whenFinished = state.withLock { state in
            state.outcome = outcome
            state.wakeClosed = true
            close(wakeRead)
            close(wakeWrite)
            return state.outcome != nil && state.started ? state.whenFinished : nil
        }
        ended.signal()
        whenFinished?()
    }

    /// What the capture came to, from how the process ended and what it said.
    private static func outcome(of state: State, plugin: LoadedPlugin, end: ProcessEnd?,
                                store: SnapshotStore) -> (result: Result<CapturedLayer, CaptureFailure>, milliseconds: Int64) {
        let measured = state.startedAt.map { start -> Int64 in
            let elapsed = ContinuousClock.now - start
            return elapsed.saturatedMilliseconds
        } ?? 0
        func failure(_ message: String) -> (result: Result<CapturedLayer, CaptureFailure>, milliseconds: Int64) {
            (.failure(CaptureFailure(plugin: plugin, message: message)), measured)
        }
        let how = end.map { "its capture process \(describe($0))" } ?? "its capture process ended (how is unknown)"
        if state.killed && state.protocolError == nil { return failure("\(how) (killed by pfhost)") }
        if let (onCaptureThread, _) = state.exitCall {
            return failure(onCaptureThread ? "called exit() during capture; \(how)"
                                           : "a thread of its capture process called exit() during capture; \(how)")
        }
        if let problem = state.protocolError { return failure("its capture process sent \(problem); it was killed") }
        switch (state.reply, end) {
        case (.layer(let bytes, let milliseconds)?, .exited(0)?):
            do {
                return (.success(try LayerValidator.validate(bytes, kind: plugin.kind, store: store, parentLayer: state.parentLayer).layer), milliseconds)
            } catch {
                var refused = failure("the layer its capture process handed back does not check out: \(error)")
                if case .failure(var capture) = refused.result {
                    capture.layerRefused = true
                    if error.inParentLayer {
                        capture.parentLayerDamage = error.description
                        capture.damagedBlob = error.blob
                    }
                    refused.result = .failure(capture)
                }
                return refused
            }
        case (.failed(let message, let milliseconds)?, .exited(0)?):
            return (.failure(CaptureFailure(plugin: plugin, message: message)), milliseconds)
        case (.some, _):
            return failure("\(how) after handing back its result")
        case (nil, .signalled?):
            return failure("crashed: \(how)")
        case (nil, _):
            return failure("\(how) before handing back a layer")
        }
    }

    /// `was killed by SIGSEGV (core dumped)`, `exited with status 3`.
    private static func describe(_ end: ProcessEnd) -> String {
        switch end {
        case .exited: "\(end)"
        case .signalled: "was \(end)"
        }
    }
}
