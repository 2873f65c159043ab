import CPFPluginABI
import PFModel

/// A plugin that passed every check: its file, its table and what the table declares.
public struct LoadedPlugin: @unchecked Sendable {
    // A copy of the plugin's table, as far as its struct_size reaches (fields it lacks are
    // zero). Its pointers lead to immutable static storage in a library that is never unloaded,
    // so sharing them between threads is safe (hence @unchecked).
    let table: pf_plugin

    /// The `.so` file it was loaded from.
    public let file: String
    /// The layer it captures.
    public let kind: LayerKind
    /// Its reverse-DNS id.
    public let id: String
    /// Its semantic version.
    public let version: String
    /// Its one-line description, when it has one.
    public let description: String?
    /// The ABI it was built against.
    public let abiMajor: UInt32
    public let abiMinor: UInt32
    /// The settings it declares (ABI 1.1), or nil when it declares none: then the host passes every key
    /// through unchecked, as for ABI 1.0.
    public let settings: [DeclaredSetting]?
    /// What it was built with (`pf_plugin.build_identity`), e.g. `swift-6.3.1`; nil for none.
    public let buildIdentity: String?

    /// The plugin as the manifest names it.
    public var reference: PluginRef { PluginRef(id: id, version: version) }

    /// `file (id, kind layer)`, how errors name a plugin.
    public var label: String { "\(file) (\(id), \(kind) layer)" }
}
