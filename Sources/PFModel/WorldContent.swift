/// What a world layer records: the agent's filesystem tree, environment, processes and
/// browser DOM.
public struct WorldContent: LayerContent {
    public static let kind = LayerKind.world

    /// The captured directory, as configured.
    public var root: String
    /// The filesystem tree under `root`.
    public var tree: WorldTree
    /// The environment (secret-looking values replaced by a marker); nil when not captured.
    public var env: [String: String]?
    /// The captured process tree; nil when not captured.
    public var processes: [WorldProcess]?
    /// The browser DOM saved by the agent; nil when not captured.
    public var dom: WorldDOM?

    /// A world layer's content.
    public init(root: String, tree: WorldTree, env: [String: String]? = nil,
                processes: [WorldProcess]? = nil, dom: WorldDOM? = nil) {
        self.root = root
        self.tree = tree
        self.env = env
        self.processes = processes
        self.dom = dom
    }
}

/// A filesystem tree: an index blob listing every entry, the packs holding small files, and totals.
public struct WorldTree: Codable, Hashable, Sendable {
    /// The index blob: one record per path (type, mode, size, mtime, link target, content).
    public var index: Digest
    /// Files, directories and symlinks under the root.
    public var entryCount: Int
    /// Bytes of regular files.
    public var totalBytes: Int64
    /// The blobs packing small files together; absent when there are none.
    public var packs: [WorldPack]?

    /// A tree summary.
    public init(index: Digest, entryCount: Int, totalBytes: Int64, packs: [WorldPack]? = nil) {
        self.index = index
        self.entryCount = entryCount
        self.totalBytes = totalBytes
        self.packs = packs
    }

    enum CodingKeys: String, CodingKey {
        case index, entryCount = "entry_count", totalBytes = "total_bytes", packs
    }
}

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

/// A browser DOM snapshot saved as HTML.
public struct WorldDOM: Codable, Hashable, Sendable {
    /// The configured path of the HTML file.
    public var path: String
    /// The blob holding it.
    public var digest: Digest
    /// Its size in bytes.
    public var size: Int64

    /// A DOM record.
    public init(path: String, digest: Digest, size: Int64) {
        self.path = path
        self.digest = digest
        self.size = size
    }
}
