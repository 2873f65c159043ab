import PFModel
import PFStore

/// Why a restore did not happen. In every case TARGET is as it was: the restore was built in a
/// temporary sibling, which is removed (unless a plugin that ignored cancellation may still be
/// writing into it, see ``timeout(plugins:timeout:)``).
public enum RestoreError: Error, Sendable, CustomStringConvertible {
    /// The plugin directory does not hold a usable set of plugins.
    case plugins(PluginSetError)
    /// No plugin in the directory handles these layers.
    case missingPlugins([LayerKind], directory: String)
    /// Plugins that cannot restore their layer: one line each, naming the plugin and why.
    case cannotRestore([String])
    /// The configuration (`--set`) is unusable.
    case configuration(ConfigurationError)
    /// The store failed, or has no such snapshot.
    case store(StoreError)
    /// TARGET cannot be restored into.
    case target(String)
    /// One or more restores failed.
    case restores([RestoreFailure])
    /// Restores did not return in time and ignored cancellation; the temporary directory is left
    /// for them (its name is in the message).
    case timeout(plugins: [LoadedPlugin], timeout: Duration, partial: String)

    public var description: String {
        switch self {
        case .plugins(let error): return "\(error)"
        case .missingPlugins(let kinds, let directory):
            let names = kinds.map(\.rawValue).joined(separator: ", ")
            return "no plugin in \(directory) restores the \(names) layer\(kinds.count > 1 ? "s" : ""); add the plugin that captured it, or leave it out with --only"
        case .cannotRestore(let lines): return lines.joined(separator: "\n")
        case .configuration(let error): return "\(error)"
        case .store(let error): return "\(error)"
        case .target(let message): return message
        case .restores(let failures): return failures.map(\.description).joined(separator: "\n")
        case .timeout(let plugins, let timeout, let partial):
            return plugins.map { "plugin \($0.label) did not finish restoring within the \(timeout.components.seconds)s timeout and ignored cancellation; nothing was restored (\(partial) is left for it: remove it once pfhost has exited)" }
                .joined(separator: "\n")
        }
    }

    /// Whether the store is at fault: a blob missing or damaged, the snapshot unreadable.
    public var isStoreFailure: Bool {
        switch self {
        case .store: true
        case .restores(let failures): failures.contains { $0.storeError != nil }
        default: false
        }
    }
}
