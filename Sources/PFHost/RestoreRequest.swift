import PFModel

/// Everything `pfhost restore` was asked to do.
public struct RestoreRequest: Sendable {
    /// The snapshot: a tag, a content id or a unique prefix.
    public var reference: String
    /// The directory of plugins.
    public var pluginsDirectory: String
    /// Where the agent directory goes. It must not exist or be an empty directory, unless `force`.
    public var target: String
    /// The layers to restore; all five when empty.
    public var kinds: Set<LayerKind>
    /// Restore settings for the plugins (`--set KIND.KEY=VALUE`, what `config` returns during
    /// restore) and agent settings that override the snapshot's in the written `pfhost.json`.
    public var settings: SnapshotConfiguration
    /// Replace a TARGET that exists and is not an empty directory.
    public var force: Bool
    /// How long the restores may take.
    public var timeout: Duration
    /// How long cancelled restores get to return after the timeout.
    public var grace: Duration
    /// Load plugins without ``PluginTrust``'s checks, for development only.
    public var allowInsecurePlugins: Bool
    /// Restore setuid and setgid bits as the snapshot records them. Off by default: a snapshot from
    /// elsewhere could otherwise plant a set-user-ID program owned by whoever restores it (root,
    /// say); files then get those bits cleared and the restore reports them.
    public var keepSetID: Bool

    /// A request with defaults: every layer, no settings, TARGET never replaced, a 600 s timeout,
    /// a 2 s grace period, plugins checked before they are loaded, setuid and setgid bits cleared.
    public init(reference: String, pluginsDirectory: String, target: String, kinds: Set<LayerKind> = [],
                settings: SnapshotConfiguration = SnapshotConfiguration(), force: Bool = false,
                timeout: Duration = .seconds(600), grace: Duration = .seconds(2), allowInsecurePlugins: Bool = false,
                keepSetID: Bool = false) {
        self.reference = reference
        self.pluginsDirectory = pluginsDirectory
        self.target = target
        self.kinds = kinds
        self.settings = settings
        self.force = force
        self.timeout = timeout
        self.grace = grace
        self.allowInsecurePlugins = allowInsecurePlugins
        self.keepSetID = keepSetID
    }
}
