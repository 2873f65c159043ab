import CPFPluginABI
import PFModel
import PFPluginKit

nonisolated(unsafe) private let table = PluginEntry.makeTable(
    kind: .world, id: "dev.pfhost.world.fs", version: "1.1.0",
    description: "Captures the agent's directory tree, environment, process tree and browser DOM",
    capture: { host, context in
        PluginEntry.run(host, context, kind: .world) { host throws(PluginError) in try WorldCapture(host: host).run() }
    },
    restore: { host, context, json, length in
        PluginEntry.restore(host, context, json, length, kind: .world) { host throws(PluginError) in try WorldRestore(host: host).run() }
    }
)

/// The plugin's one exported symbol.
@_cdecl("pf_plugin_entry_v1")
public func pluginEntry() -> UnsafePointer<pf_plugin> { table }
