import Dispatch
import Logging
import PFModel
import PFStore
import PFSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The child side of `pfhost snapshot --isolate`: `pfhost capture-plugin` loads ONE plugin,
/// captures its layer straight into the store, and hands back only the layer JSON.
///
/// The conversation, on the descriptors pfhost gave it (``CaptureMessage`` and
/// ``CaptureRequest`` have the formats):
///
/// 1. It takes its stdout for the messages and points stdout at stderr, so whatever the plugin
///    prints cannot be mistaken for a message (nor reach pfhost's stdout); it dies with pfhost
///    (`PR_SET_PDEATHSIG`).
/// 2. It loads the plugin with the same trust check and table checks as pfhost does in process,
///    and says `plugin` (its kind, id, version) or `refused`.
/// 3. It reads the request (configuration and parent layer) from stdin. End of input before it
///    means the set was refused: it exits.
/// 4. It captures on a thread, as in process (the same ``CaptureContext``, so the same checks at
///    `set_layer`), sending log and progress messages. End of input on stdin now means cancel.
/// 5. It flushes the blobs it wrote into `blobs/sha256/`, then sends `layer` (the JSON as the
///    plugin passed it) or `failed` (the same message an in-process capture would give), and
///    ends with `_exit(0)`: no plugin destructor runs.
///
/// An `exit()` in the capture is reported as an `exit` message (``ExitGuard``). pfhost checks
/// the layer again and commits; a crash, a signal or a kill leaves temporary files in
/// `ingest/`, which pfhost removes.
public enum CaptureProcess {
    /// Runs the capture process and never returns.
    public static func run(_ options: CaptureProcessOptions) -> Never {
        // 1. The messages get stdout's pipe; stdout becomes stderr.
        let messagesFD = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3)
        guard messagesFD >= 0, dup2(STDERR_FILENO, STDOUT_FILENO) >= 0 else { _exit(2) }
        guard SystemCalls.dieWithParent(options.parentPID, signal: SIGKILL) else { _exit(2) }
        // A crash here is the plugin's, and pfhost reports it from how this process ended: let
        // the signal kill it at once, without the Swift runtime's backtracer (which takes seconds).
        for signal in [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS] { _ = Glibc.signal(signal, SIG_DFL) }
        let channel = MessageChannel(fd: messagesFD)
        ExitGuard.shared.report { onCaptureThread, message in channel.send(.exit(onCaptureThread: onCaptureThread, message: message)) }

        // 2. Load.
        let plugin: LoadedPlugin
        do { plugin = try PluginLoader.load(options.path, as: options.file, allowInsecurePlugins: options.allowInsecurePlugins) } catch {
            channel.send(.refused(reason: error.reason))
            _exit(0)
        }
        channel.send(.plugin(kind: plugin.kind, id: plugin.id, version: plugin.version, description: plugin.description,
                             abiMajor: plugin.abiMajor, abiMinor: plugin.abiMinor, settings: plugin.settings,
                             buildIdentity: plugin.buildIdentity))

        // 3. The request.
        let input = StandardInput()
        guard let line = input.nextLine(), let request = CaptureRequest(line: line) else { _exit(0) }

        // 4. Capture.
        let logger = Logger(label: "pfhost") { _ in MessageLogHandler(channel: channel, logLevel: options.logLevel) }
        let store: SnapshotStore
        do { store = try SnapshotStore(opening: options.store, durability: options.durability) } catch {
            channel.send(.failed(message: "(host) the capture process cannot open the store: \(error)", milliseconds: 0))
            _exit(0)
        }
        let bytes = BytesSender(channel: channel)
        let context = CaptureContext(plugin: plugin, store: store, config: request.config, parentLayer: request.parentLayer,
                                     logger: logger, onProgress: progressSender(channel), onBytes: { _, count in bytes.add(count) })
        let capture = InProcessCapture(context: context)
        let finished = DispatchSemaphore(value: 0)
        capture.start { finished.signal() }
        _ = DetachedThread.start {
            input.waitForEnd()
            capture.cancel()
        }
        finished.wait()
        context.warnOfUnreadKeys()

        // 5. Flush and answer.
        bytes.flush()
        let (result, milliseconds) = capture.outcome!
        switch result {
        case .success:
            do { try store.flush() } catch {
                channel.send(.failed(message: "(host) the capture process could not flush its blobs: \(error)", milliseconds: milliseconds))
                _exit(0)
            }
            channel.send(.layer(context.layerJSON ?? [], milliseconds: milliseconds))
        case .failure(let failure):
            channel.send(.failed(message: failure.message, milliseconds: milliseconds))
        }
        _exit(0)
    }

    /// Progress messages, at most ten a second (and always the last, `done == total`).
    private static func progressSender(_ channel: MessageChannel) -> @Sendable (LayerKind, UInt64, UInt64) -> Void {
        let lastSent = Mutex<ContinuousClock.Instant?>(nil)
        return { _, done, total in
            let now = ContinuousClock.now
            let send = lastSent.withLock { last -> Bool in
                guard done == total || last.map({ now - $0 >= .milliseconds(100) }) ?? true else { return false }
                last = now
                return true
            }
            if send { channel.send(.progress(done: done, total: total)) }
        }
    }
}
