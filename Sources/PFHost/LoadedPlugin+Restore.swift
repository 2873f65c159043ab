import CPFPluginABI

extension LoadedPlugin {
    /// Whether `pfhost restore` can use this plugin: nil when it can, else why not (for messages
    /// and `pfhost plugins`).
    ///
    /// A plugin restores when it declares ABI 1.1 or newer and its `restore` is not NULL. A 1.0
    /// plugin never restores, even with a `restore` function: ABI 1.0 has no restore services, so
    /// such a function was written against a host that could not give it a blob or a file.
    public var restoreRefusal: String? {
        if abiMinor < 1 { return "built for plugin ABI \(abiMajor).\(abiMinor), which has no restore services (1.1 added them)" }
        if table.restore == nil { return "no restore entry (pf_plugin.restore is NULL)" }
        return nil
    }

    /// Whether `pfhost restore` can use this plugin.
    public var canRestore: Bool { restoreRefusal == nil }
}
