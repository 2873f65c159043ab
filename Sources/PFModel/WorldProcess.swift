/// One process of the agent's process tree.
public struct WorldProcess: Codable, Hashable, Sendable {
    public var pid: Int
    public var ppid: Int
    /// Its arguments.
    public var cmdline: [String]
    /// Its working directory and executable, when readable.
    public var cwd: String?
    public var exe: String?
    /// Its state letter from `/proc/PID/status` (R, S, D, Z, T…).
    public var state: String?

    /// A process record.
    public init(pid: Int, ppid: Int, cmdline: [String], cwd: String? = nil, exe: String? = nil, state: String? = nil) {
        self.pid = pid
        self.ppid = ppid
        self.cmdline = cmdline
        self.cwd = cwd
        self.exe = exe
        self.state = state
    }
}
