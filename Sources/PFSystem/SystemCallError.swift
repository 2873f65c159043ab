#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A system call that failed: which, on what path, and the errno.
public struct SystemCallError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The call, e.g. `fsync`.
    public let operation: String
    /// The file or directory it was applied to.
    public let path: String
    /// The errno value.
    public let code: Int32

    /// A failure of `operation` on `path` with errno `code`.
    public init(operation: String, path: String, code: Int32) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    /// The errno's text, e.g. "No such file or directory".
    public var reason: String { String(cString: strerror(code)) }

    public var description: String {
        "\(operation) '\(path)': \(reason)"
    }
}

extension SystemCallError {
    /// Whether this is an `open` of a file that is not a regular file: a symlink with `O_NOFOLLOW`
    /// (`ELOOP`), a directory (`EISDIR`), or a FIFO or device that ``SystemCalls/readFile(_:limit:followSymlinks:)``
    /// refused before opening it (`EINVAL`).
    public var isOpenOfNonRegularFile: Bool {
        operation == "open" && [ELOOP, EINVAL, EISDIR].contains(code)
    }
}
