import CPFPluginABI
import PFModel
import PFPluginSDK

/// Builds a plugin's `pf_plugin` table and runs its capture with errors turned into return
/// codes. A Swift plugin is then a few lines:
///
/// ```swift
/// private let identity = PluginIdentity(kind: .trace, id: "org.example.trace", version: "1.0.0")
///
/// nonisolated(unsafe) private let table = PluginEntry.makeTable(identity, description: "…") { host, context in
///     PluginEntry.run(host, context, identity) { host throws(PluginError) in try capture(host) }
/// }
///
/// @_cdecl("pf_plugin_entry_v1")
/// public func pluginEntry() -> UnsafePointer<pf_plugin> { table }
/// ```
public enum PluginEntry {
    /// The capture function's C type.
    public typealias CaptureFunction = @convention(c) (UnsafePointer<pf_host>?, OpaquePointer?) -> Int32

    /// The restore function's C type.
    public typealias RestoreFunction = @convention(c) (UnsafePointer<pf_host>?, OpaquePointer?, UnsafePointer<CChar>?, Int) -> Int32

    /// A table in static storage (allocated once, never freed) for the host to read. Without
    /// `restore`, the plugin cannot restore (`pfhost plugins` says so). `settings` are the keys
    /// the plugin reads (the host checks configuration against them); the table's build identity is
    /// the Swift this plugin was compiled with (``BuildIdentity/swiftRuntime``), so a host built
    /// with another Swift refuses it by name instead of crashing in the runtime.
    public static func makeTable(_ identity: PluginIdentity, description: StaticString, settings: [PluginSetting] = [],
                                 capture: CaptureFunction, restore: RestoreFunction? = nil) -> UnsafePointer<pf_plugin> {
        PluginTable.make(kind: PluginTable.Kind(rawValue: identity.kind.abiValue)!, id: identity.id, version: identity.version,
                         description: description, settings: settings, capture: capture, restore: restore)
    }

    /// Runs `body` with a ``PluginHost``; a thrown ``PluginError`` becomes `set_error` and its code.
    public static func run(_ table: UnsafePointer<pf_host>?, _ context: OpaquePointer?, _ identity: PluginIdentity,
                           _ body: (PluginHost) throws(PluginError) -> Void) -> Int32 {
        guard let table, let context else { return Int32(PF_ERR_INVALID) }
        // A host of ABI 1.x has at least 1.0's table; refuse anything smaller. (Later services are
        // checked where they are used: PluginHost.putFile checks for put_fd.)
        guard Int(table.pointee.struct_size) >= end(of: \pf_host.cancelled), table.pointee.abi_major == UInt32(PF_ABI_MAJOR) else {
            return Int32(PF_ERR_UNSUPPORTED)
        }
        let host = PluginHost(table: table, context: context, identity: identity)
        do {
            try body(host)
            return Int32(PF_OK)
        } catch {
            table.pointee.set_error(context, error.message)
            return error.code
        }
    }

    /// Runs a restore's `body` with a ``RestoreHost`` for the layer JSON the host passed; a thrown
    /// ``PluginError`` becomes `set_error` and its code.
    ///
    /// ```swift
    /// PluginEntry.makeTable(identity, …, capture: { … }, restore: { host, context, json, length in
    ///     PluginEntry.restore(host, context, json, length, identity) { host throws(PluginError) in
    ///         let layer = try host.layer(TraceLayer.self)
    ///         try host.restoreFile(Array("conversation.jsonl".utf8), from: layer.content.messages, mode: 0o644, mtime: 0)
    ///         try host.setRestoredConfig("path", "conversation.jsonl", isPath: true)
    ///     }
    /// })
    /// ```
    public static func restore(_ table: UnsafePointer<pf_host>?, _ context: OpaquePointer?, _ json: UnsafePointer<CChar>?, _ length: Int,
                               _ identity: PluginIdentity, _ body: (RestoreHost) throws(PluginError) -> Void) -> Int32 {
        guard let table, let context, let json else { return Int32(PF_ERR_INVALID) }
        // The restore services end the 1.1 table: a host whose table stops before them (a 1.1 host
        // from before they were appended) has none.
        guard Int(table.pointee.struct_size) >= end(of: \pf_host.report), table.pointee.abi_major == UInt32(PF_ABI_MAJOR) else {
            table.pointee.set_error(context, "this host has no restore services (plugin ABI 1.1 with open_blob … report); upgrade pfhost")
            return Int32(PF_ERR_UNSUPPORTED)
        }
        let layer = Array(UnsafeRawBufferPointer(start: json, count: length))
        let host = RestoreHost(table: table, context: context, kind: identity.kind, layerJSON: layer)
        do {
            try body(host)
            return Int32(PF_OK)
        } catch {
            table.pointee.set_error(context, error.message)
            return error.code
        }
    }

    /// The offset just past the field at `field` of `pf_host`: a host's table has the field when
    /// its `struct_size` reaches this.
    private static func end<Field>(of field: KeyPath<pf_host, Field>) -> Int {
        MemoryLayout<pf_host>.offset(of: field)! + MemoryLayout<Field>.size
    }

}
