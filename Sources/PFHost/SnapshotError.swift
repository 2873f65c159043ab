import PFStore

/// Why a snapshot was not taken. In every case nothing was committed: the store's index is
/// as it was.
public enum SnapshotError: Error, Sendable, CustomStringConvertible {
    /// The plugin directory does not hold a usable set of plugins.
    case plugins(PluginSetError)
    /// The configuration is unusable.
    case configuration(ConfigurationError)
    /// One or more captures failed.
    case captures([CaptureFailure])
    /// Captures did not return in time.
    case timeout(CaptureTimeout)
    /// The store failed.
    case store(StoreError)

    public var description: String {
        switch self {
        case .plugins(let error): "\(error)"
        case .configuration(let error): "\(error)"
        case .captures(let failures): failures.map(\.description).joined(separator: "\n")
        case .timeout(let timeout): "\(timeout)"
        case .store(let error): "\(error)"
        }
    }
}
