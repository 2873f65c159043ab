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

    public var description: String {
        "\(operation) '\(path)': \(String(cString: strerror(code)))"
    }
}
