import CPFPluginABI
import PFModel
import PFPluginKit

private let identity = PluginIdentity(kind: .cache, id: "dev.pfhost.cache.paged-kv", version: "1.2.0")

nonisolated(unsafe) private let table = PluginEntry.makeTable(
    identity,
    description: "Packs a paged KV-cache dump by prefix-chained page keys, reusing the parent's packs; or records a hosted cache",
    settings: [
        PluginSetting("path", .path, help: "a paged KV-cache dump directory (required unless hosted)"),
        PluginSetting("hosted", .bool, default: "false", help: "the model's provider keeps the cache: record that, store nothing"),
        PluginSetting("model_fingerprint", .string, help: "a hosted cache: the model it belongs to (default: hosted)"),
    ],
    capture: { host, context in
        PluginEntry.run(host, context, identity) { host throws(PluginError) in try CacheCapture(host: host).run() }
    },
    restore: { host, context, json, length in
        PluginEntry.restore(host, context, json, length, identity) { host throws(PluginError) in try CacheRestore(host: host).run() }
    }
)

/// The plugin's one exported symbol.
@_cdecl("pf_plugin_entry_v1")
public func pluginEntry() -> UnsafePointer<pf_plugin> { table }
