#if canImport(Glibc)
import Glibc
#endif

extension SystemCalls {
    /// Whether `fd` is a terminal (`isatty(3)`): the CLI draws progress only there unless asked.
    public static func isTerminal(_ fd: Int32) -> Bool {
        isatty(fd) == 1
    }
}
