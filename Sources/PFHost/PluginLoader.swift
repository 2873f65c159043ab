import CPFPluginABI
import PFModel
import PFSystem
#if canImport(Glibc)
import Glibc
#endif

/// Finds, loads and checks the plugins in a directory.
///
/// Every `*.so` in the directory is considered, sorted by name; other files are ignored, and
/// a file reached twice (a symlink to another, same device and inode) is loaded once. Each is
/// opened with `dlopen(RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE)` and never closed.
///
/// Before any `dlopen`, which runs a library's constructors, ``PluginTrust`` checks the directory,
/// the directories above it, and each file with the symlinks and directories on its way: a file
/// that someone other than root or the effective user could have changed is refused unopened,
/// and in such a directory nothing is opened. `allowInsecurePlugins` turns the check off, for
/// development only.
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

    /// One `.so` in a directory before it is loaded: the path to `dlopen` (after the trust check,
    /// the symlink-free path the check ended at), or why it is refused unopened.
    struct Listing {
        let file: String
        let path: Result<String, PluginRefusal>
    }

    /// Loads every `.so` in `directory` and reports each one.
    ///
    /// - Parameter allowInsecurePlugins: skip ``PluginTrust``'s checks and open whatever is there
    ///   (for development; never where others can write).
    /// - Throws: ``PluginSetError/unreadableDirectory(_:reason:)`` when the directory cannot be
    ///   listed, ``PluginSetError/untrustedDirectory(_:problem:files:)`` when it may not be trusted.
    public static func candidates(in directory: String, allowInsecurePlugins: Bool = false) throws(PluginSetError) -> [Candidate] {
        try list(in: directory, allowInsecurePlugins: allowInsecurePlugins).map { listing in
            Candidate(file: listing.file, result: listing.path.flatMap { path in
                Result { () throws(PluginRefusal) in try loadTable(path, as: listing.file) }
            })
        }
    }

    /// The `.so` files of `directory`, sorted by name, each checked by ``PluginTrust`` (unless
    /// `allowInsecurePlugins`) but none opened: what ``candidates(in:allowInsecurePlugins:)``
    /// loads here and `--isolate` loads in capture processes.
    static func list(in directory: String, allowInsecurePlugins: Bool) throws(PluginSetError) -> [Listing] {
        var names: [String]
        do { names = try SystemCalls().listDirectory(directory).filter { $0.hasSuffix(".so") } } catch {
            throw .unreadableDirectory(directory, reason: error.reason)
        }
        names.sort()
        let trust = PluginTrust()
        var checkedDirectory: PluginTrust.Checked?
        if !allowInsecurePlugins {
            do { checkedDirectory = try trust.checkDirectory(directory) } catch {
                throw .untrustedDirectory(directory, problem: error, files: names)
            }
        }
        var seen = Set<FileIdentity>()
        var listings: [Listing] = []
        for name in names {
            let file = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            // What to dlopen: with the check, the path it ended at (no symlinks, every step
            // checked), so nobody else can change what it names before the dlopen.
            let path: String
            if let checkedDirectory {
                let checked: PluginTrust.Checked
                do { checked = try trust.checkFile(name, in: checkedDirectory) } catch {
                    listings.append(Listing(file: file, path: .failure(.untrusted(file: file, problem: error))))
                    continue
                }
                guard seen.insert(FileIdentity(device: checked.device, inode: checked.inode)).inserted else { continue }
                path = checked.path
            } else {
                if let info = try? SystemCalls().status(file) {
                    guard seen.insert(FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))).inserted else { continue }
                }
                path = file
            }
            listings.append(Listing(file: file, path: .success(path)))
        }
        return listings
    }

    /// Loads the directory's plugins and checks they form a set: one plugin per layer kind,
    /// all five present.
    ///
    /// - Parameter allowInsecurePlugins: skip ``PluginTrust``'s checks (for development).
    /// - Throws: ``PluginSetError`` naming the untrusted directory, every refused file, both
    ///   files of a duplicated kind, or the missing kinds.
    public static func loadSet(from directory: String, allowInsecurePlugins: Bool = false) throws(PluginSetError) -> [LayerKind: LoadedPlugin] {
        try assemble(candidates(in: directory, allowInsecurePlugins: allowInsecurePlugins), directory: directory)
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

    /// Checks one file with ``PluginTrust`` (every directory above it and every symlink on the
    /// way), then loads it and checks its table.
    ///
    /// - Parameter allowInsecurePlugins: skip the trust check (for development).
    public static func load(_ file: String, allowInsecurePlugins: Bool = false) throws(PluginRefusal) -> LoadedPlugin {
        try load(file, as: file, allowInsecurePlugins: allowInsecurePlugins)
    }

    /// ``load(_:allowInsecurePlugins:)`` of `path`, with refusals and the plugin naming it `file`
    /// (a capture process loads the checked path its parent listed under the name the user knows).
    static func load(_ path: String, as file: String, allowInsecurePlugins: Bool) throws(PluginRefusal) -> LoadedPlugin {
        guard !allowInsecurePlugins else { return try loadTable(path, as: file) }
        let checked: PluginTrust.Checked
        do { checked = try PluginTrust().checkFile(path) } catch { throw .untrusted(file: file, problem: error) }
        return try loadTable(checked.path, as: file)
    }

    /// `dlopen`s `path` and checks its table; refusals and the plugin name it `file`.
    private static func loadTable(_ path: String, as file: String) throws(PluginRefusal) -> LoadedPlugin {
        _ = dlerror()
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
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
