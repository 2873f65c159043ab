import CPFPluginABI
import PFModel
import PFSystem

/// Safe access to the host's services during one restore (ABI 1.1): the layer, its blobs (each
/// checked against its digest by the host before it is handed out), creating the layer's directory
/// tree, the settings for the restored agent's `pfhost.json`, and reports for the user. No unsafe
/// pointer reaches the plugin's own code.
///
/// Paths are bytes relative to the layer's restore directory (`TARGET/<kind>/`): components joined
/// by `/`, none empty, `.` or `..`. The host creates everything beneath that directory following no
/// symlink, whatever the path says; a path with a NUL byte (which a damaged or hostile snapshot may
/// hold) is refused here, before the host could see it cut short.
///
/// A `RestoreHost` is valid only until the restore function returns. Its methods may be called
/// from any thread (the host's services are thread-safe).
public struct RestoreHost: @unchecked Sendable {
    // The host table and context pointers are valid for the restore call and the host's services
    // are thread-safe, so the value may cross threads within that call.
    let table: UnsafePointer<pf_host>
    let context: OpaquePointer

    /// The layer this plugin restores.
    public let kind: LayerKind
    /// The layer, as the snapshot's manifest holds it (canonical JSON).
    public let layerJSON: [UInt8]

    init(table: UnsafePointer<pf_host>, context: OpaquePointer, kind: LayerKind, layerJSON: [UInt8]) {
        self.table = table
        self.context = context
        self.kind = kind
        self.layerJSON = layerJSON
    }

    /// The layer, decoded as `type`.
    ///
    /// - Throws: ``PluginError`` when it does not decode (written by another version of the plugin?).
    public func layer<Content: LayerContent>(_ type: Layer<Content>.Type) throws(PluginError) -> Layer<Content> {
        do { return try CanonicalJSON.decode(type, from: layerJSON) } catch {
            throw .invalid("the \(kind) layer cannot be read: \(error)")
        }
    }

    /// The restore setting `key` (`pfhost restore --set KIND.KEY=VALUE`), or nil.
    public func config(_ key: String) -> String? {
        table.pointee.config(context, key).map { String(cString: $0) }
    }

    /// A boolean restore setting: `true`/`1`/`yes`/`on` or `false`/`0`/`no`/`off`; `fallback` when unset.
    public func flag(_ key: String, default fallback: Bool) throws(PluginError) -> Bool {
        guard let value = config(key) else { return fallback }
        switch value.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw .invalid("\(kind).\(key)='\(value)' is not a boolean (true or false)")
        }
    }

    // MARK: Blobs

    /// Opens the layer's blob `digest` for reading, once the host has checked its bytes hash to
    /// it. The file is closed when the ``ReadableFile`` is released.
    ///
    /// - Throws: ``PluginError`` naming the blob when it is not the layer's, missing or damaged.
    public func openBlob(_ digest: Digest) throws(PluginError) -> ReadableFile {
        var fd: Int32 = -1
        var size: UInt64 = 0
        let code = table.pointee.open_blob(context, digest.description, &fd, &size)
        try check(code, "blob \(digest) cannot be read")
        return try ReadableFile(adopting: fd, path: "blob \(digest)")
    }

    // MARK: Creating

    /// Creates the directory `path` (mode 0700 by default, so it can be filled; set its recorded
    /// mode with ``setAttributes(_:mode:mtime:)`` once it is). An existing directory is fine.
    public func makeDirectory(_ path: [UInt8], mode: UInt32 = 0o700) throws(PluginError) {
        try withPath(path) { (cPath) throws(PluginError) in
            try check(table.pointee.make_directory(context, cPath, mode), "\(shown(path)): the directory cannot be created")
        }
    }

    /// Creates the regular file `path` (nothing may be there yet) for writing; mode 0600 by default
    /// until ``setAttributes(_:mode:mtime:)`` sets the recorded one.
    public func createFile(_ path: [UInt8], mode: UInt32 = 0o600) throws(PluginError) -> WritableFile {
        var fd: Int32 = -1
        try withPath(path) { (cPath) throws(PluginError) in
            try check(table.pointee.create_file(context, cPath, mode, &fd), "\(shown(path)): the file cannot be created")
        }
        return WritableFile(adopting: fd, path: shown(path))
    }

    /// Creates the symlink `path` pointing at `target` (stored as given: the host never follows it).
    public func makeSymlink(_ path: [UInt8], target: [UInt8]) throws(PluginError) {
        guard !target.contains(0) else { throw .invalid("\(shown(path)): the symlink's target holds a NUL byte") }
        try withPath(path) { (cPath) throws(PluginError) in
            try target.withCString { (cTarget) throws(PluginError) in
                try check(table.pointee.make_symlink(context, cTarget, cPath), "\(shown(path)): the symlink cannot be created")
            }
        }
    }

    /// Sets the permission bits (unless nil; never on a symlink) and the mtime (ns since 1970) of
    /// `path`, not following a symlink there. Directories last, deepest first.
    public func setAttributes(_ path: [UInt8], mode: UInt32?, mtime: Int64) throws(PluginError) {
        try withPath(path) { (cPath) throws(PluginError) in
            try check(table.pointee.set_attributes(context, cPath, mode ?? PF_KEEP_MODE, mtime),
                      "\(shown(path)): its mode and mtime cannot be set")
        }
    }

    /// Copies the whole blob `digest` into a new file `path`: the usual way to restore a file
    /// stored as one blob. With `mtime`, the file then gets exactly `mode` and that mtime; without,
    /// it keeps the time of the restore and `mode` less the umask.
    public func restoreFile(_ path: [UInt8], from digest: Digest, mode: UInt32 = 0o644, mtime: Int64? = nil) throws(PluginError) {
        let blob = try openBlob(digest)
        let file = try createFile(path, mode: mtime == nil ? mode : 0o600)
        try file.copy(from: blob)
        try file.close()
        if let mtime { try setAttributes(path, mode: mode, mtime: mtime) }
    }

    // MARK: The restored agent

    /// Records `key` = `value` for this kind's section of `TARGET/pfhost.json`. With `isPath`,
    /// `value` is relative to the layer's directory (`.` for the directory itself) and the host
    /// writes it relative to TARGET; `key` must then be `path`, `root`, `dom` or end in `_path`,
    /// `_dir` or `_file`.
    public func setRestoredConfig(_ key: String, _ value: String, isPath: Bool = false) throws(PluginError) {
        try check(table.pointee.set_restored_config(context, key, value, isPath ? 1 : 0), "\(kind).\(key) cannot be recorded for pfhost.json")
    }

    /// Tells the user a fact about the restore (printed on stderr, and in `restore --json`).
    public func report(_ key: String, _ value: String) {
        table.pointee.report(context, key, value)
    }

    // MARK: Messages and cancellation

    /// Logs a message through the host.
    public func log(_ level: PluginHost.LogLevel, _ message: String) {
        table.pointee.log(context, level.rawValue, message)
    }

    /// Reports progress in the plugin's own units; `total` 0 means unknown.
    public func progress(done: UInt64, total: UInt64) {
        table.pointee.progress(context, done, total)
    }

    /// Throws ``PluginError/cancelled`` once the host wants the restore to stop. Call it in loops.
    public func checkCancelled() throws(PluginError) {
        if table.pointee.cancelled(context) != 0 { throw .cancelled }
    }

    /// `path` as messages show it: `KIND/path`, bytes that are not UTF-8 replaced.
    public func shown(_ path: [UInt8]) -> String {
        "\(kind)/" + String(decoding: path, as: UTF8.self)
    }

    private func withPath<T>(_ path: [UInt8], _ body: (UnsafePointer<CChar>) throws(PluginError) -> T) throws(PluginError) -> T {
        guard !path.contains(0) else { throw .invalid("\(shown(path)): the path holds a NUL byte") }
        return try path.withCString(body)
    }

    private func check(_ code: Int32, _ what: String) throws(PluginError) {
        guard code != Int32(PF_OK) else { return }
        if code == Int32(PF_ERR_CANCELLED) { throw .cancelled }
        throw PluginError(code: code, message: what)
    }
}
