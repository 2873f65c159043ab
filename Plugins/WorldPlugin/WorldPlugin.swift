import CPFPluginABI
import PFModel
import PFPluginKit

private let identity = PluginIdentity(kind: .world, id: "dev.pfhost.world.fs", version: "1.2.0")

nonisolated(unsafe) private let table = PluginEntry.makeTable(
    identity,
    description: "Captures the agent's directory tree, environment, process tree and browser DOM",
    settings: [
        PluginSetting("root", .path, required: true, help: "the agent's working directory"),
        PluginSetting("exclude", .list, help: "fnmatch patterns of paths left out, comma-separated"),
        PluginSetting("env", .bool, default: "true", help: "capture the environment (secrets redacted)"),
        PluginSetting("env_keep", .list, help: "environment names never redacted, comma-separated"),
        PluginSetting("pid", .int, help: "capture this process and its descendants, and take the environment from it"),
        PluginSetting("dom", .path, help: "an HTML file saved by the agent's browser"),
        PluginSetting("keep_private_keys", .bool, default: "false", help: "keep files and a DOM that hold a private key"),
        PluginSetting("racy_window_ms", .int, default: "2000", help: "stat data of files changed this recently are not trusted"),
    ],
    capture: { host, context in
        PluginEntry.run(host, context, identity) { host throws(PluginError) in try WorldCapture(host: host).run() }
    },
    restore: { host, context, json, length in
        PluginEntry.restore(host, context, json, length, identity) { host throws(PluginError) in try WorldRestore(host: host).run() }
    }
)

/// The plugin's one exported symbol.
@_cdecl("pf_plugin_entry_v1")
public func pluginEntry() -> UnsafePointer<pf_plugin> { table }
