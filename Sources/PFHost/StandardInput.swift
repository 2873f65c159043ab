import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A capture process's stdin, the pipe from pfhost: one request line, then nothing until pfhost
/// closes it to cancel.
final class StandardInput: Sendable {
    private let buffer = Mutex(LineBuffer(limit: 1 << 30))

    /// The next line, or nil at the end of input (or a read error).
    func nextLine() -> [UInt8]? {
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            if let line = buffer.withLock({ $0.nextLine().map(Array.init) }) { return line }
            let count = chunk.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return nil }
            chunk.withUnsafeBytes { raw in buffer.withLock { $0.append(UnsafeRawBufferPointer(rebasing: raw[0..<count])) } }
        }
    }

    /// Waits until the end of input (whatever arrives meanwhile is ignored).
    func waitForEnd() {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return }
        }
    }
}
