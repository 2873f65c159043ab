import PFModel

/// A plugin's capture that failed, with the plugin's own message or the rule it broke.
public struct CaptureFailure: Error, Sendable, CustomStringConvertible {
    /// The plugin.
    public let plugin: LoadedPlugin
    /// What went wrong.
    public let message: String
    /// Set when the layer refused was the parent's layer, handed back unchanged: what is wrong is
    /// the parent's stored layer (the store's damage), not the plugin.
    public var parentLayerDamage: String? = nil
    /// The blob at fault in ``parentLayerDamage``, when there is one (missing, or not its size).
    public var damagedBlob: Digest? = nil
    /// Whether the host refused the layer the plugin handed back (rather than the capture failing
    /// on its own: an error, a crash, a timeout, a cancellation).
    public var layerRefused = false

    public var description: String { "plugin \(plugin.label) failed: \(message)" }
}
