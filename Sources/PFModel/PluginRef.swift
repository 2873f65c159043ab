/// Which plugin captured a layer. Filled in by the host from the plugin's table.
public struct PluginRef: Codable, Hashable, Sendable {
    /// The plugin's reverse-DNS id, e.g. `org.example.world.fs`.
    public var id: String
    /// The plugin's semantic version.
    public var version: String

    /// A plugin reference.
    public init(id: String, version: String) {
        self.id = id
        self.version = version
    }
}
