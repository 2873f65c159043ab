import PFSystem
import Synchronization

/// A capture process's end of its pipe to pfhost: each ``CaptureMessage`` written whole, one
/// writer at a time (log messages come from any thread of the plugin).
final class MessageChannel: Sendable {
    private let fd: Int32
    private let lock = Mutex(())

    /// A channel writing to `fd`, which it owns.
    init(fd: Int32) {
        self.fd = fd
    }

    /// Writes `message`. A parent that is gone is not an error here: the process dies with it.
    func send(_ message: CaptureMessage) {
        let line = message.line
        lock.withLock { _ in
            _ = try? withBytes(line) { (raw) throws(SystemCallError) in
                try SystemCalls().write(fd, raw.baseAddress!, count: raw.count, path: "the pipe to pfhost")
            }
        }
    }
}
