/// A plugin's capture that failed, with the plugin's own message or the rule it broke.
public struct CaptureFailure: Error, Sendable, CustomStringConvertible {
    /// The plugin.
    public let plugin: LoadedPlugin
    /// What went wrong.
    public let message: String
    /// Set when the layer refused was the parent's layer, handed back unchanged: what is wrong is
    /// the parent's stored layer (the store's damage), not the plugin.
    public var parentLayerDamage: String? = nil

    public var description: String { "plugin \(plugin.label) failed: \(message)" }
}
