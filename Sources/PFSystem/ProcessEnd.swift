/// How a child process ended.
public enum ProcessEnd: Sendable, Equatable, CustomStringConvertible {
    /// It called `exit` (or returned from `main`) with this status.
    case exited(Int32)
    /// A signal killed it; `coreDumped` when it left a core dump.
    case signalled(Int32, coreDumped: Bool)

    /// `SIGSEGV`, `SIGKILL`; `signal 77` for a number without a name.
    public static func signalName(_ number: Int32) -> String {
        SignalNames.name(number)
    }

    /// `exited with status 3`, `killed by SIGSEGV (core dumped)`.
    public var description: String {
        switch self {
        case .exited(let status): "exited with status \(status)"
        case .signalled(let signal, let core): "killed by \(Self.signalName(signal))\(core ? " (core dumped)" : "")"
        }
    }
}
