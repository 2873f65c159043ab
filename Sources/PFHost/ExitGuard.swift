import Dispatch
import PFModel
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Turns an `exit()` a plugin calls during its capture into a failure that names the plugin.
///
/// `exit()` from plugin code would otherwise end pfhost with the plugin's status (0 for
/// `exit(0)`), printing nothing and committing nothing. The guard registers an `atexit` handler
/// the first time a capture starts, and knows which captures are in flight and on which threads;
/// when `exit` runs while one is, the handler prints
/// `pfhost: error: plugin FILE (id, kind layer) called exit() during capture; nothing was committed`
/// (naming every capture in flight when the caller is not a capture thread) and ends the process
/// with `_exit(2)`, before any other handler runs. It cannot catch `_exit()` or `abort()`.
///
/// Captures abandoned after a timeout no longer count: the host itself exits then.
public final class ExitGuard: Sendable {
    /// The one guard of the process.
    public static let shared = ExitGuard()

    private struct Capture {
        var thread: pthread_t
        var label: String
    }

    private struct State {
        var captures: [Int: Capture] = [:]
        /// The plugin file this process is loading, on which thread, and since when.
        var loading: (thread: pthread_t, file: String, started: DispatchTime)?
        var next = 0
        var installed = false
        var reporter: Reporter?
        /// What the messages end with: what the command did not do.
        var consequence: String? = "nothing was committed"
        /// ``consequence`` as the messages append it.
        var suffix: String { consequence.map { "; \($0)" } ?? "" }
    }

    private let state = Mutex(State())

    /// Takes the message instead of stderr, and whether `exit` was called on a capture thread.
    typealias Reporter = @Sendable (_ onCaptureThread: Bool, _ message: String) -> Void

    /// Records that the calling thread is about to run `plugin`'s capture; pass the token to
    /// ``leave(_:)`` when it returns.
    func enter(_ plugin: LoadedPlugin) -> Int {
        state.withLock { state in
            Self.install(&state)
            state.next += 1
            state.captures[state.next] = Capture(thread: pthread_self(), label: plugin.label)
            return state.next
        }
    }

    /// Runs `body`, which loads plugin `file`: `dlopen` runs its constructors and those of the
    /// libraries it needs, then its entry point runs. An `exit()` they call ends pfhost with
    /// `pfhost: error: plugin FILE called exit() while it was being loaded …` and status 2, not
    /// with the status the plugin chose (0 would read as success), and not as the exit of a capture
    /// that runs meanwhile.
    func loading<T, Failure: Error>(_ file: String, _ body: () throws(Failure) -> T) throws(Failure) -> T {
        state.withLock { state in
            Self.install(&state)
            state.loading = (pthread_self(), file, .now())
        }
        defer { state.withLock { $0.loading = nil } }
        return try body()
    }

    /// When the plugin being loaded began loading; nil when none is.
    var loadStarted: DispatchTime? { state.withLock { $0.loading?.started } }

    /// Ends pfhost (status 2) with a message naming the plugin being loaded, if one is and it has
    /// been loading for `timeout` (``LoadDeadline``), after `beforeExit`; otherwise returns.
    func loadingOutlasted(_ timeout: Duration, beforeExit: () -> Void) {
        let found = state.withLock { state in
            state.loading.flatMap { $0.started + timeout.dispatchInterval <= .now() ? ($0.file, state.reporter, state.suffix) : nil }
        }
        guard let (file, reporter, suffix) = found else { return }
        beforeExit()
        Self.end("plugin \(file) did not finish loading within the \(timeout.shortDescription) timeout (a constructor, its own or a library's, or its entry point did not return; or a thread a plugin loaded before it started holds the dynamic loader)\(suffix)",
                 onCaptureThread: true, reporter: reporter)
    }

    /// Hands `message` to `reporter`, or writes it to stderr, and ends the process with status 2.
    private static func end(_ message: String, onCaptureThread: Bool, reporter: Reporter?) -> Never {
        if let reporter {
            reporter(onCaptureThread, message)
        } else {
            var text = Array("pfhost: error: \(message)\n".utf8)
            _ = text.withUnsafeMutableBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
        }
        _exit(2)
    }

    /// Registers the `atexit` handler, once.
    private static func install(_ state: inout State) {
        guard !state.installed else { return }
        // Handlers run in the reverse order of registration, and this one must run first, while
        // the captures' threads still run: libcrypto's cleanup, registered when it is first used,
        // would pull its locks from under their hashing. So use it first.
        _ = Digest.of([])
        atexit { ExitGuard.shared.processIsExiting() }
        state.installed = true
    }

    /// The capture of `token` has returned, or has been abandoned.
    func leave(_ token: Int) {
        state.withLock { _ = $0.captures.removeValue(forKey: token) }
    }

    /// What the messages end with, after `; `: for a snapshot (the default) `nothing was
    /// committed`; nil for a command that changes nothing.
    public func setConsequence(_ consequence: String?) {
        state.withLock { $0.consequence = consequence }
    }

    /// Sends the message to `reporter` instead of stderr (a capture process hands it to its parent).
    func report(to reporter: @escaping Reporter) {
        state.withLock { $0.reporter = reporter }
    }

    /// What `exit` is about to do, while a plugin loads or captures are in flight: nil when neither.
    private func message() -> (onCaptureThread: Bool, text: String, reporter: Reporter?)? {
        let me = pthread_self()
        return state.withLock { state -> (Bool, String, Reporter?)? in
            let consequence = state.suffix
            if let loading = state.loading, pthread_equal(loading.thread, me) != 0 {
                return (true, "plugin \(loading.file) called exit() while it was being loaded (in a constructor, its own or a library's, or in its entry point)\(consequence)", state.reporter)
            }
            guard !state.captures.isEmpty else { return nil }
            if let capture = state.captures.values.first(where: { pthread_equal($0.thread, me) != 0 }) {
                return (true, "plugin \(capture.label) called exit() during capture\(consequence)", state.reporter)
            }
            let labels = state.captures.sorted { $0.key < $1.key }.map { "plugin \($0.value.label)" }
            return (false, "exit() was called during the capture of \(labels.joined(separator: ", ")), from a thread that is not a capture thread (one a plugin started?)\(consequence)", state.reporter)
        }
    }

    /// The `atexit` handler.
    private func processIsExiting() {
        guard let (onCaptureThread, message, reporter) = message() else { return }
        Self.end(message, onCaptureThread: onCaptureThread, reporter: reporter)
    }
}
