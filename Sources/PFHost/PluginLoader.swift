import CPFPluginABI
import PFModel
#if canImport(Glibc)
import Glibc
#endif

/// Finds, loads and checks the plugins in a directory.
///
/// Every `*.so` in the directory is considered, sorted by name; other files are ignored, and
/// a file reached twice (a symlink to another, same device and inode) is loaded once. Each is
/// opened with `dlopen(RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE)` and never closed.
///
/// ```swift
/// let plugins = try PluginLoader.loadSet(from: "/opt/agent/plugins")
/// ```
///
/// Call from one thread at a time: `dlerror` is per thread but loading is not reentrant here.
public enum PluginLoader {
    /// What the loader made of one `.so` file.
    public struct Candidate: Sendable {
        /// The file.
        public let file: String
        /// The plugin, or why it is refused.
        public let result: Result<LoadedPlugin, PluginRefusal>
    }

    /// Loads every `.so` in `directory` and reports each one.
    ///
    /// - Throws: ``PluginSetError/unreadableDirectory(_:reason:)`` when the directory cannot be listed.
    public static func candidates(in directory: String) throws(PluginSetError) -> [Candidate] {
        guard let dir = opendir(directory) else {
            throw .unreadableDirectory(directory, reason: String(cString: strerror(errno)))
        }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name.hasSuffix(".so") { names.append(name) }
        }
        closedir(dir)
        var seen = Set<FileIdentity>()
        var candidates: [Candidate] = []
        for name in names.sorted() {
            let file = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            var info = stat()
            if stat(file, &info) == 0 {
                guard seen.insert(FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))).inserted else { continue }
            }
            candidates.append(Candidate(file: file, result: Result { () throws(PluginRefusal) in try load(file) }))
        }
        return candidates
    }

    /// Loads the directory's plugins and checks they form a set: one plugin per layer kind,
    /// all five present.
    ///
    /// - Throws: ``PluginSetError`` naming every refused file, both files of a duplicated
    ///   kind, or the missing kinds.
    public static func loadSet(from directory: String) throws(PluginSetError) -> [LayerKind: LoadedPlugin] {
        try assemble(candidates(in: directory), directory: directory)
    }

    /// Checks that `candidates` form a set: no refusals, one plugin per kind, all five present.
    public static func assemble(_ candidates: [Candidate], directory: String) throws(PluginSetError) -> [LayerKind: LoadedPlugin] {
        let refusals = candidates.compactMap { candidate -> PluginRefusal? in
            if case .failure(let refusal) = candidate.result { return refusal }
            return nil
        }
        if !refusals.isEmpty { throw .refused(refusals) }
        var byKind: [LayerKind: LoadedPlugin] = [:]
        for case .success(let plugin) in candidates.map(\.result) {
            if let other = byKind[plugin.kind] {
                throw .duplicateKind(plugin.kind, first: other.label, second: plugin.label)
            }
            byKind[plugin.kind] = plugin
        }
        let missing = LayerKind.allCases.filter { byKind[$0] == nil }
        if !missing.isEmpty { throw .missingKinds(missing, directory: directory) }
        return byKind
    }

    /// Loads one file and checks its table.
    public static func load(_ file: String) throws(PluginRefusal) -> LoadedPlugin {
        _ = dlerror()
        guard let handle = dlopen(file, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
            throw .notLoadable(file: file, reason: reason)
        }
        // Never dlclose: thread-local destructors and Swift metadata make unloading unsafe.
        guard let symbol = dlsym(handle, PluginABI.entrySymbol) else { throw .noEntrySymbol(file: file) }
        let entry = unsafeBitCast(symbol, to: pf_plugin_entry_fn.self)
        guard let table = entry() else { throw .entryReturnedNull(file: file) }
        // The four leading uint32_t fields are the same in every version; read them alone, then
        // copy no more of the table than its struct_size says it has (a 1.0 table is shorter than
        // this host's pf_plugin once a minor appends to it).
        let header = UnsafeRawPointer(table)
        let size = header.loadUnaligned(as: UInt32.self)
        let major = header.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
        let minor = header.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
        guard major == PluginABI.major else { throw .abiMajorMismatch(file: file, major: major, minor: minor) }
        guard minor <= PluginABI.minor else { throw .abiMinorTooNew(file: file, minor: minor) }
        guard size >= PluginABI.pluginTableSize10 else { throw .structTooSmall(file: file, size: size) }
        var plugin = pf_plugin()
        withUnsafeMutableBytes(of: &plugin) { copy in
            copy.copyMemory(from: UnsafeRawBufferPointer(start: header, count: min(Int(size), copy.count)))
        }
        guard let kind = LayerKind(abiValue: plugin.kind) else { throw .unknownKind(file: file, kind: plugin.kind) }
        guard let id = text(plugin.id) else { throw .missingField(file: file, field: "id") }
        guard let version = text(plugin.version) else { throw .missingField(file: file, field: "version") }
        guard plugin.capture != nil else { throw .missingField(file: file, field: "capture") }
        return LoadedPlugin(
            table: plugin, file: file, kind: kind, id: id, version: version, description: text(plugin.description),
            abiMajor: plugin.abi_major, abiMinor: plugin.abi_minor)
    }

    private static func text(_ pointer: UnsafePointer<CChar>?) -> String? {
        guard let pointer, pointer.pointee != 0 else { return nil }
        return String(cString: pointer)
    }

    private struct FileIdentity: Hashable {
        let device: UInt64
        let inode: UInt64
    }
}
