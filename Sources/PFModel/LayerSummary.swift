/// The fields every layer has, whatever its kind.
public struct LayerSummary: Hashable, Sendable {
    /// The layer's kind.
    public var kind: LayerKind
    /// The plugin that captured it.
    public var plugin: PluginRef?
    /// Every blob it needs.
    public var blobs: [Descriptor]
    /// Its annotations.
    public var annotations: [String: String]

    /// The sum of its blobs' sizes, saturated at the ends of `Int64`: a manifest read from a store
    /// may say anything, and adding what it says must not trap.
    public var totalBytes: Int64 { blobs.totalSize }
}
