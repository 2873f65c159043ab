import CPFPluginABI

/// The plugin ABI this host implements, from `pf_plugin.h`.
public enum PluginABI {
    /// `PF_ABI_MAJOR`.
    public static let major = UInt32(PF_ABI_MAJOR)
    /// `PF_ABI_MINOR`.
    public static let minor = UInt32(PF_ABI_MINOR)
    /// `PF_ENTRY_SYMBOL`.
    public static let entrySymbol = PF_ENTRY_SYMBOL
    /// `PF_PLUGIN_SIZE_1_0`: `sizeof(pf_plugin)` in ABI 1.0, the smallest plugin table the host
    /// accepts. Written down, not taken from today's `sizeof`, which grows with each minor.
    public static let pluginTableSize10 = UInt32(4 * MemoryLayout<UInt32>.size + 5 * MemoryLayout<UnsafeRawPointer>.size)
    /// `PF_HOST_SIZE_1_0`: `sizeof(pf_host)` in ABI 1.0.
    public static let hostTableSize10 = UInt32(4 * MemoryLayout<UInt32>.size + 13 * MemoryLayout<UnsafeRawPointer>.size)
}
