import PFStore

/// A plugin's restore that failed: the plugin's own message, and what the host saw fail last.
public struct RestoreFailure: Error, Sendable, CustomStringConvertible {
    /// The plugin.
    public let plugin: LoadedPlugin
    /// What went wrong, as the plugin said it (or the code it returned).
    public let message: String
    /// The last host service that failed for it (a path refused, a blob damaged), if any.
    public let hostError: String?
    /// A blob that was missing or damaged, if that is why.
    public let storeError: StoreError?

    public var description: String {
        "plugin \(plugin.label) failed to restore: \(message)" + (hostError.map { " (host: \($0))" } ?? "")
    }
}
