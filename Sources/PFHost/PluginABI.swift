import CPFPluginABI

/// The plugin ABI this host implements, from `pf_plugin.h`.
public enum PluginABI {
    /// `PF_ABI_MAJOR`.
    public static let major = UInt32(PF_ABI_MAJOR)
    /// `PF_ABI_MINOR`.
    public static let minor = UInt32(PF_ABI_MINOR)
    /// `PF_ENTRY_SYMBOL`.
    public static let entrySymbol = PF_ENTRY_SYMBOL
    /// `sizeof(pf_plugin)` in ABI 1.0: the smallest plugin table the host accepts.
    public static let pluginTableSize = UInt32(MemoryLayout<pf_plugin>.size)
}
