import PFSystem

/// Which plugin a snapshot loads first: `ingest/load-first.v1`.
///
/// Plugins load one after another on one thread, and each capture starts as its plugin is loaded,
/// so a snapshot ends no sooner than the last-loaded plugin's load plus its capture. Loading first
/// the plugin whose capture took longest last time starts the longest capture earliest (on a warm
/// snapshot, the world walk). The file is a hint: plugins are still checked, reported and refused
/// in name order, and a missing, damaged or stale file only costs that time. What the order can
/// change is timing: which of several failing captures is named first, and whether a capture that
/// ends near `--timeout` (which counts once all are loaded) is in time (docs/store-format.md).
extension SnapshotStore {
    /// The file holding the hint: one plugin file name (no directory) and a newline.
    var loadFirstPath: String { ingestPath + "/load-first.v1" }

    /// The name (in the plugins directory) of the plugin whose capture took longest in the last
    /// snapshot of this store that recorded one, or nil: also for a file that is not one plain
    /// `.so` name and a newline, or that is a symlink.
    public func pluginToLoadFirst() -> String? {
        guard let bytes = try? system.readFile(loadFirstPath, limit: 512, followSymlinks: false),
              bytes.last == 0x0a,
              let name = String(validating: bytes.dropLast(), as: UTF8.self),
              Self.isPluginFileName(name)
        else { return nil }
        return name
    }

    /// Records `name` as the plugin to load first, through a temporary file renamed over the hint
    /// (not fsynced: losing it costs only time). Failures are ignored, as is a name that is not a
    /// plain `.so` file name.
    public func rememberPluginToLoadFirst(_ name: String) {
        guard Self.isPluginFileName(name), let owner = try? owner() else { return }
        let temporary = ingestPath + "/" + owner.temporaryName("load-first")
        do {
            try system.writeFile(temporary, Array((name + "\n").utf8), sync: false)
            try system.rename(temporary, loadFirstPath)
        } catch {
            try? system.unlink(temporary)
        }
    }

    /// Whether `name` can be a plugin's file name in a directory: `NAME.so`, no `/`, no NUL, no
    /// newline, at most 255 bytes.
    static func isPluginFileName(_ name: String) -> Bool {
        name.hasSuffix(".so") && name.utf8.count > 3 && name.utf8.count <= 255
            && !name.utf8.contains { $0 == UInt8(ascii: "/") || $0 == 0 || $0 == 0x0a }
    }
}
