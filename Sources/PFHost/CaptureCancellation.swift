/// Why the captures of a run were cancelled.
enum CaptureCancellation: Sendable {
    /// The timeout passed.
    case deadline
    /// The capture of task `index`, `plugin`, failed first.
    case failure(index: Int, plugin: LoadedPlugin)
    /// The host refused the snapshot while captures ran: a plugin loaded after them was refused,
    /// or the plugin set or the configuration is not sound (``CaptureRun/stop()``).
    case stopped

    /// How a failure it caused is marked: `cancelled at the 1s timeout`,
    /// `cancelled because plugin … failed`.
    func mark(timeout: Duration) -> String {
        switch self {
        case .deadline: "cancelled at the \(timeout.shortDescription) timeout"
        case .failure(_, let plugin): "cancelled because plugin \(plugin.label) failed"
        case .stopped: "cancelled because the snapshot was refused"
        }
    }
}
