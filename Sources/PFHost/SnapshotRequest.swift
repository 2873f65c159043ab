import PFModel
import PFStore

/// Everything `pfhost snapshot` was asked to do.
public struct SnapshotRequest: Sendable {
    /// The directory of plugins.
    public var pluginsDirectory: String
    /// The agent identity and per-layer settings.
    public var configuration: SnapshotConfiguration
    /// References to the parents; when empty and `tag` names a snapshot, that one.
    public var parents: [String]
    /// The tag to move to the new snapshot.
    public var tag: String?
    /// How long the captures may take.
    public var timeout: Duration
    /// How long cancelled captures get to return after the timeout.
    public var grace: Duration
    /// The environment (for `SOURCE_DATE_EPOCH`).
    public var environment: [String: String]
    /// Load plugins without ``PluginTrust``'s checks, for development only.
    public var allowInsecurePlugins: Bool
    /// Where the plugins run: in this process (the default) or each in a process of its own.
    public var isolation: CaptureIsolation

    /// A request with defaults: no parents, no tag, a 600 s timeout, a 2 s grace period, and
    /// plugins checked before they are loaded, into this process.
    public init(pluginsDirectory: String, configuration: SnapshotConfiguration = SnapshotConfiguration(),
                parents: [String] = [], tag: String? = nil, timeout: Duration = .seconds(600),
                grace: Duration = .seconds(2), environment: [String: String] = [:], allowInsecurePlugins: Bool = false,
                isolation: CaptureIsolation = .inProcess) {
        self.pluginsDirectory = pluginsDirectory
        self.configuration = configuration
        self.parents = parents
        self.tag = tag
        self.timeout = timeout
        self.grace = grace
        self.environment = environment
        self.allowInsecurePlugins = allowInsecurePlugins
        self.isolation = isolation
    }
}
