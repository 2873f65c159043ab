import Logging
import PFStore
#if canImport(Glibc)
import Glibc
#endif

/// How pfhost starts a capture process: the arguments of the hidden `pfhost capture-plugin`
/// subcommand, built by the parent and parsed by the CLI in the child.
///
/// ```
/// pfhost capture-plugin --store STORE --durability batch --log-level warning --parent-pid 4242 \
///        --name plugins/world.so [--allow-insecure-plugins] /opt/agent/plugins/world.so
/// ```
public struct CaptureProcessOptions: Sendable, Equatable {
    /// The plugin's file as the user named it (in the plugin directory), for messages.
    public var file: String
    /// The path to load: the symlink-free path the parent's trust check ended at.
    public var path: String
    /// The store to capture into.
    public var store: String
    /// The store's durability mode.
    public var durability: Durability
    /// Skip ``PluginTrust``'s check, as the parent was told to.
    public var allowInsecurePlugins: Bool
    /// The lowest level of log messages worth sending to the parent.
    public var logLevel: Logger.Level
    /// The parent's pid: the child dies with it, and refuses to start when it is already gone.
    public var parentPID: Int32

    /// Options for a capture process.
    public init(file: String, path: String, store: String, durability: Durability, allowInsecurePlugins: Bool,
                logLevel: Logger.Level, parentPID: Int32) {
        self.file = file
        self.path = path
        self.store = store
        self.durability = durability
        self.allowInsecurePlugins = allowInsecurePlugins
        self.logLevel = logLevel
        self.parentPID = parentPID
    }

    /// The name of the hidden subcommand.
    public static let subcommand = "capture-plugin"

    /// The arguments after the executable's name.
    public var arguments: [String] {
        [Self.subcommand, "--store", store, "--durability", durability.rawValue, "--log-level", logLevel.rawValue,
         "--parent-pid", String(parentPID), "--name", file] + (allowInsecurePlugins ? ["--allow-insecure-plugins"] : []) + ["--", path]
    }
}
