import CPFPluginABI
import PFBuildIdentity
#if canImport(Glibc)
import Glibc
#endif

/// Builds a plugin's `pf_plugin` table: what `pf_plugin_entry_v1` returns.
///
/// ```swift
/// nonisolated(unsafe) private let table = PluginTable.make(
///     kind: .trace, id: "org.example.trace.swift", version: "1.0.0", description: "…",
///     settings: [SettingDeclaration("path", .path, required: true, help: "the conversation")]
/// ) { host, context in
///     Capture.run(host, context) { capture throws(PluginFailure) in … }
/// }
///
/// @_cdecl("pf_plugin_entry_v1")
/// public func pluginEntry() -> UnsafePointer<pf_plugin> { table }
/// ```
public enum PluginTable {
    /// The five layers (`PF_LAYER_*`).
    public enum Kind: UInt32, Sendable {
        case model = 1, cache = 2, world = 3, effects = 4, trace = 5
    }

    /// `capture`'s C type.
    public typealias CaptureFunction = @convention(c) (UnsafePointer<pf_host>?, OpaquePointer?) -> Int32
    /// `restore`'s C type.
    public typealias RestoreFunction = @convention(c) (UnsafePointer<pf_host>?, OpaquePointer?, UnsafePointer<CChar>?, Int) -> Int32

    /// A table in static storage (allocated once, never freed), ABI 1.1, with the settings the plugin
    /// reads and, as build identity, the Swift it was compiled with (a host built with another Swift
    /// refuses it by name rather than crash in the runtime).
    public static func make(kind: Kind, id: StaticString, version: StaticString, description: StaticString,
                            settings: [SettingDeclaration] = [], capture: CaptureFunction,
                            restore: RestoreFunction? = nil) -> UnsafePointer<pf_plugin> {
        var declared: UnsafeMutablePointer<pf_setting>?
        if !settings.isEmpty {
            declared = UnsafeMutablePointer<pf_setting>.allocate(capacity: settings.count)
            declared!.initialize(from: settings.map(\.entry), count: settings.count)
        }
        let table = UnsafeMutablePointer<pf_plugin>.allocate(capacity: 1)
        table.initialize(to: pf_plugin(
            struct_size: UInt32(MemoryLayout<pf_plugin>.size), abi_major: UInt32(PF_ABI_MAJOR), abi_minor: UInt32(PF_ABI_MINOR),
            kind: kind.rawValue, id: SettingDeclaration.cString(id), version: SettingDeclaration.cString(version),
            description: SettingDeclaration.cString(description), capture: capture, restore: restore,
            setting_size: settings.isEmpty ? 0 : UInt32(MemoryLayout<pf_setting>.stride), setting_count: UInt32(settings.count),
            settings: UnsafePointer(declared), build_identity: UnsafePointer(strdup(BuildIdentity.swiftRuntime))))
        return UnsafePointer(table)
    }
}
