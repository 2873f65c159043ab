/// A plugin's capture that failed, with the plugin's own message or the rule it broke.
public struct CaptureFailure: Error, Sendable, CustomStringConvertible {
    /// The plugin.
    public let plugin: LoadedPlugin
    /// What went wrong.
    public let message: String

    public var description: String { "plugin \(plugin.label) failed: \(message)" }
}
