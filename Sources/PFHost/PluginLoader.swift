import CPFPluginABI
import PFBuildIdentity
import PFModel
import PFSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Finds, loads and checks the plugins in a directory.
///
/// Every `*.so` in the directory is considered, sorted by name; other files are ignored, and
/// a file reached twice (a symlink to another, same device and inode) is loaded once. Only a
/// `.so` whose dynamic symbol table defines `pf_plugin_entry_v1` is a plugin: any other (a library
/// a plugin needs, say) is skipped (``PluginRefusal/isSkipped``), told from the file's bytes
/// before any `dlopen`, so its constructors never run. Each plugin is loaded with
/// `dlopen(RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE)` and never closed.
///
/// Before any `dlopen`, which runs a library's constructors:
///
/// 1. ``PluginTrust`` checks the directory, the directories above it, and each file with the
///    symlinks and directories on its way, holding a descriptor of each: a file that someone other
///    than root or the effective user could have changed is refused unopened, and in such a
///    directory nothing is opened;
/// 2. the file's dynamic section is read from its descriptor (``ELFDynamicSection``), a file not
///    exporting `pf_plugin_entry_v1` is set aside, and ``PluginDependencies`` checks the directories its libraries are looked up in and the
///    libraries found there, refusing the plugin when any is untrusted;
/// 3. those libraries, then the plugin, are loaded through `/proc/self/fd/N` of the checked
///    descriptors, so what is loaded is exactly the file that was checked, whatever happened to
///    the path since. (`/proc` must be procfs; without it nothing is loaded.)
///
/// `allowInsecurePlugins` turns all of this off and loads each path as it is, for development only.
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
        /// The plugin, or why it is refused or skipped.
        public let result: Result<LoadedPlugin, PluginRefusal>

        /// Whether the file is not a plugin at all, and is left aside (``PluginRefusal/isSkipped``).
        public var isSkipped: Bool {
            if case .failure(let refusal) = result { return refusal.isSkipped }
            return false
        }
    }

    /// One `.so` in a directory before it is loaded: the symlink-free path the trust check ended at
    /// (what a capture process of `--isolate` checks and loads again), or why it is refused unopened.
    struct Listing {
        let file: String
        let path: Result<String, PluginRefusal>
    }

    /// The `.so` files of `directory`, sorted by name, each checked by ``PluginTrust`` (unless
    /// `allowInsecurePlugins`) but none opened: what `--isolate` hands to its capture processes,
    /// which check each again and load it there (``load(_:as:allowInsecurePlugins:)``).
    static func list(in directory: String, allowInsecurePlugins: Bool) throws(PluginSetError) -> [Listing] {
        let (names, unreadable) = try soNames(in: directory)
        var seen = Set<FileIdentity>()
        var listings: [Listing] = []
        let trust = PluginTrust()
        var checkedDirectory: PluginTrust.Checked?
        if !allowInsecurePlugins {
            do { checkedDirectory = try trust.checkDirectory(directory) } catch {
                throw .untrustedDirectory(directory, problem: error, files: names)
            }
        }
        for name in names {
            let file = path(of: name, in: directory)
            if let checkedDirectory {
                let checked: PluginTrust.Checked
                do { checked = try trust.checkFile(name, in: checkedDirectory) } catch {
                    listings.append(Listing(file: file, path: .failure(.untrusted(file: file, problem: error))))
                    continue
                }
                guard seen.insert(FileIdentity(device: checked.device, inode: checked.inode)).inserted else { continue }
                let path = Result { () throws(PluginRefusal) -> String in
                    _ = try entryChecked(descriptor: checked.descriptor, path: checked.path, as: file, system: trust.system)
                    return checked.path
                }
                listings.append(Listing(file: file, path: path))
            } else {
                if let info = try? SystemCalls().status(file) {
                    guard seen.insert(FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))).inserted else { continue }
                }
                listings.append(Listing(file: file, path: Result { () throws(PluginRefusal) -> String in
                    try entryChecked(path: file, as: file)
                    return file
                }))
            }
        }
        // In name order, the names that are not UTF-8 by their escaped form among the others.
        return (listings.map { (String($0.file.split(separator: "/").last ?? ""), $0) }
            + unreadable.map { ($0.display, Listing(file: $0.refusal.file, path: .failure($0.refusal))) })
            .sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// The path of `name` in `directory`, as messages and the insecure path name it.
    private static func path(of name: String, in directory: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// `names` (sorted) in the order to look at them: `first` ahead of the others when it is one of
    /// them and no name before it leads to the same file (which name order keeps: then it stays
    /// where it is), else as they are.
    static func loadingOrder(_ names: [String], first: String?, in directory: String) -> [String] {
        guard let first, let index = names.firstIndex(of: first), index > 0 else { return names }
        let system = SystemCalls()
        func identity(_ name: String) -> FileIdentity? {
            let file = path(of: name, in: directory)
            guard let info = try? system.status(file) else { return nil }
            return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        }
        guard let hinted = identity(first), !names[..<index].contains(where: { identity($0) == hinted }) else { return names }
        return [first] + names[..<index] + names[(index + 1)...]
    }

    /// The names of the `*.so` files in `directory`, sorted, and the refusal of each `.so` whose
    /// name is not UTF-8: decoded, such a name would be another file's (`w\xff.so` read as
    /// `w\u{FFFD}.so`), so that file is never opened and never stands in for it.
    private static func soNames(in directory: String) throws(PluginSetError) -> (names: [String], unreadable: [(display: String, refusal: PluginRefusal)]) {
        let all: [[UInt8]]
        do { all = try SystemCalls().listDirectoryBytes(directory) } catch {
            throw .unreadableDirectory(directory, reason: error.reason)
        }
        var names: [String] = []
        var unreadable: [(display: String, refusal: PluginRefusal)] = []
        for bytes in all where bytes.count > 3 && bytes.suffix(3).elementsEqual(".so".utf8) {
            if let name = String(validating: bytes, as: UTF8.self) {
                names.append(name)
            } else {
                let display = DisplayText.escaped(bytes: bytes)
                let file = path(of: display, in: directory)
                unreadable.append((display, .notLoadable(file: file, reason: "its file name is not valid UTF-8: pfhost reads plugin file names as UTF-8, and this one decoded would name another file; rename it")))
            }
        }
        return (names.sorted(), unreadable)
    }

    /// Loads every `.so` in `directory` and reports each one.
    ///
    /// - Parameter allowInsecurePlugins: skip ``PluginTrust``'s checks and open whatever is there
    ///   (for development; never where others can write).
    /// - Throws: ``PluginSetError/unreadableDirectory(_:reason:)`` when the directory cannot be
    ///   listed, ``PluginSetError/untrustedDirectory(_:problem:files:)`` when it may not be trusted.
    public static func candidates(in directory: String, allowInsecurePlugins: Bool = false) throws(PluginSetError) -> [Candidate] {
        try candidates(in: directory, allowInsecurePlugins: allowInsecurePlugins, trust: PluginTrust())
    }

    /// ``candidates(in:allowInsecurePlugins:)`` checking with `trust` (tests pass one whose system
    /// calls have a fault hook).
    ///
    /// `onLoaded` is called with each plugin as soon as it is loaded, before the next file is
    /// looked at: the snapshot starts its capture then (the set is not checked yet).
    ///
    /// Files are looked at in name order, except `first` (a name in the directory), looked at
    /// before the others when there is such a file and no name before it is the same file: a
    /// snapshot loads first the plugin whose capture took longest last time
    /// (``SnapshotStore/pluginToLoadFirst()``). The candidates are returned in name order all the
    /// same, and of two names for one file the first by name is kept, so the set's checks and
    /// messages do not depend on `first`.
    static func candidates(in directory: String, allowInsecurePlugins: Bool, trust: PluginTrust, first: String? = nil,
                           onLoaded: (LoadedPlugin) -> Void = { _ in }) throws(PluginSetError) -> [Candidate] {
        let (names, unreadable) = try soNames(in: directory)
        let order = loadingOrder(names, first: first, in: directory)
        var seen = Set<FileIdentity>()
        var byName: [String: Candidate] = [:]
        /// What was looked at, in name order (the names that are not UTF-8 by their escaped form).
        func inNameOrder() -> [Candidate] {
            (names.compactMap { name in byName[name].map { (name, $0) } }
                + unreadable.map { ($0.display, Candidate(file: $0.refusal.file, result: .failure($0.refusal))) })
                .sorted { $0.0 < $1.0 }.map(\.1)
        }
        guard !allowInsecurePlugins else {
            for name in order {
                let file = path(of: name, in: directory)
                if let info = try? SystemCalls().status(file) {
                    guard seen.insert(FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))).inserted else { continue }
                }
                let candidate = Candidate(file: file, result: Result { () throws(PluginRefusal) in try loadInsecurely(file) })
                if case .success(let plugin) = candidate.result { onLoaded(plugin) }
                byName[name] = candidate
            }
            return inNameOrder()
        }
        let checkedDirectory: PluginTrust.Checked
        do { checkedDirectory = try trust.checkDirectory(directory) } catch {
            throw .untrustedDirectory(directory, problem: error, files: names)
        }
        let dependencies = PluginDependencies(trust: trust)
        for name in order {
            let file = path(of: name, in: directory)
            // Looked up through the checked directory's descriptor, not its path.
            let checked: PluginTrust.Checked
            do { checked = try trust.checkFile(name, in: checkedDirectory) } catch {
                byName[name] = Candidate(file: file, result: .failure(.untrusted(file: file, problem: error)))
                continue
            }
            guard seen.insert(FileIdentity(device: checked.device, inode: checked.inode)).inserted else { continue }
            let candidate = Candidate(file: file, result: Result { () throws(PluginRefusal) in
                try load(checked, as: file, dependencies: dependencies)
            })
            if case .success(let plugin) = candidate.result { onLoaded(plugin) }
            byName[name] = candidate
        }
        return inNameOrder()
    }

    /// Loads the directory's plugins and checks they form a set: one plugin per layer kind,
    /// all five present.
    ///
    /// - Parameters:
    ///   - allowInsecurePlugins: skip ``PluginTrust``'s checks (for development).
    ///   - first: a file name in `directory` to load before the others (the rest load in name
    ///     order): files are still checked, reported and refused in name order
    ///     (docs/store-format.md, "The load-order hint", says what the order can change).
    ///   - onLoaded: called with each plugin as soon as it is loaded, before the next file is
    ///     looked at and before the set is checked (the snapshot starts its capture then).
    /// - Throws: ``PluginSetError`` naming the untrusted directory, every refused file, both
    ///   files of a duplicated kind, or the missing kinds.
    public static func loadSet(from directory: String, allowInsecurePlugins: Bool = false, first: String? = nil,
                               onLoaded: (LoadedPlugin) -> Void = { _ in }) throws(PluginSetError) -> [LayerKind: LoadedPlugin] {
        try assemble(candidates(in: directory, allowInsecurePlugins: allowInsecurePlugins, trust: PluginTrust(), first: first,
                                onLoaded: onLoaded),
                     directory: directory)
    }

    /// Checks that `candidates` form a set: no refusals, one plugin per kind, all five present.
    public static func assemble(_ candidates: [Candidate], directory: String) throws(PluginSetError) -> [LayerKind: LoadedPlugin] {
        let refusals = candidates.compactMap { candidate -> PluginRefusal? in
            if case .failure(let refusal) = candidate.result, !refusal.isSkipped { return refusal }
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
    /// way) and its libraries with ``PluginDependencies``, then loads exactly the checked file and
    /// checks its table.
    ///
    /// - Parameter allowInsecurePlugins: skip the checks and load the path as it is (for development).
    public static func load(_ file: String, allowInsecurePlugins: Bool = false) throws(PluginRefusal) -> LoadedPlugin {
        try load(file, allowInsecurePlugins: allowInsecurePlugins, trust: PluginTrust())
    }

    /// ``load(_:allowInsecurePlugins:)`` of `path`, with refusals and the plugin naming it `file`
    /// (a capture process loads the checked path its parent listed under the name the user knows).
    static func load(_ path: String, as file: String, allowInsecurePlugins: Bool) throws(PluginRefusal) -> LoadedPlugin {
        guard !allowInsecurePlugins else { return try loadInsecurely(path, as: file) }
        let trust = PluginTrust()
        let checked: PluginTrust.Checked
        do { checked = try trust.checkFile(path) } catch { throw .untrusted(file: file, problem: error) }
        return try load(checked, as: file, dependencies: PluginDependencies(trust: trust))
    }

    /// ``load(_:allowInsecurePlugins:)`` checking with `trust`.
    static func load(_ file: String, allowInsecurePlugins: Bool, trust: PluginTrust) throws(PluginRefusal) -> LoadedPlugin {
        guard !allowInsecurePlugins else { return try loadInsecurely(file) }
        let checked: PluginTrust.Checked
        do { checked = try trust.checkFile(file) } catch { throw .untrusted(file: file, problem: error) }
        return try load(checked, as: file, dependencies: PluginDependencies(trust: trust))
    }

    /// Reads the checked file's dynamic section, checks its libraries, loads them and then it, each
    /// through its descriptor, and checks its table. Refusals and the plugin name it `file`.
    private static func load(_ checked: PluginTrust.Checked, as file: String, dependencies: PluginDependencies) throws(PluginRefusal) -> LoadedPlugin {
        try ExitGuard.shared.loading(file) { () throws(PluginRefusal) in try loadGuarded(checked, as: file, dependencies: dependencies) }
    }

    /// ``load(_:as:dependencies:)`` under ``ExitGuard/loading(_:_:)``.
    private static func loadGuarded(_ checked: PluginTrust.Checked, as file: String, dependencies: PluginDependencies) throws(PluginRefusal) -> LoadedPlugin {
        let dynamic = try entryChecked(descriptor: checked.descriptor, path: checked.path, as: file, system: dependencies.trust.system)
        let libraries: [PluginDependencies.Library]
        do { libraries = try dependencies.check(checked, dynamic) } catch { throw .untrustedDependency(file: file, problem: error) }
        for library in libraries where !PluginDependencies.isLoaded(library.name) {
            do { _ = try open(library.file, system: dependencies.trust.system) } catch {
                switch error {
                case .notLoadable(let reason): throw .notLoadable(file: file, reason: "its library \(library.file.path): \(reason)")
                case .noProcFileSystem(let reason): throw .noProcFileSystem(file: file, reason: reason)
                }
            }
        }
        let handle: UnsafeMutableRawPointer
        do { handle = try open(checked, system: dependencies.trust.system, display: file) } catch {
            switch error {
            case .notLoadable(let reason):
                // Loaded from /proc/self/fd, the plugin's $ORIGIN is /proc/self/fd: the loader
                // finds a library loaded ahead by its soname, or not at all.
                let unmatched = libraries.filter { $0.soname != $0.name && !$0.name.contains("/") }.map(\.name)
                guard !unmatched.isEmpty else { throw .notLoadable(file: file, reason: reason) }
                throw .notLoadable(file: file, reason: reason + " (pfhost loads the checked plugin through /proc/self/fd, so the loader finds "
                    + "\(unmatched.joined(separator: ", ")) only by soname: link \(unmatched.count == 1 ? "it" : "each") with -Wl,-soname,NAME, "
                    + "NAME being the name the plugin asks for)")
            case .noProcFileSystem(let reason): throw .noProcFileSystem(file: file, reason: reason)
            }
        }
        return try table(handle, as: file)
    }

    /// The dynamic section of the file open as `descriptor`, once its symbol table shows it exports
    /// `pf_plugin_entry_v1`: nothing of a file that does not is ever loaded.
    static func entryChecked(descriptor: Int32, path: String, as file: String, system: SystemCalls) throws(PluginRefusal) -> ELFDynamicSection {
        let dynamic: ELFDynamicSection
        let exported: [String]
        do {
            dynamic = try ELFDynamicSection(descriptor: descriptor, path: path, system: system)
            exported = try dynamic.exportedNames(descriptor: descriptor, path: path, system: system)
        } catch {
            throw .malformed(file: file, problem: error)
        }
        guard exported.contains(PluginABI.entrySymbol) else { throw .noEntrySymbol(file: file) }
        return dynamic
    }

    /// ``entryChecked(descriptor:path:as:system:)`` of the file at `path`, opened for the check
    /// only (the unchecked, development-only way).
    static func entryChecked(path: String, as file: String) throws(PluginRefusal) {
        let system = SystemCalls()
        let descriptor: Int32
        do { descriptor = try system.open(path, O_RDONLY) } catch {
            throw .notLoadable(file: file, reason: "\(path): \(error.reason)")
        }
        defer { try? system.close(descriptor, path: path) }
        _ = try entryChecked(descriptor: descriptor, path: path, as: file, system: system)
    }

    /// Why ``open(_:system:display:)`` failed.
    private enum OpenFailure: Error {
        case notLoadable(String)
        case noProcFileSystem(String)
    }

    /// `statfs`'s type for procfs.
    private static let procFileSystemType: Int64 = 0x9fa0

    /// Which file each `/proc/self/fd/N` name given to `dlopen` stood for. glibc returns an already
    /// loaded object whose name matches the string it is given, whatever file that name leads to
    /// now, and descriptor numbers are reused: so a number is used again only for the same file.
    private static let descriptorNames = Mutex<[Int32: FileIdentity]>([:])

    /// `dlopen`s exactly the file `checked` holds open, through `/proc/self/fd/N` (a copy of its
    /// descriptor whose name never stood for another file); dlopen's words name `display`.
    private static func open(_ checked: PluginTrust.Checked, system: SystemCalls, display: String? = nil) throws(OpenFailure) -> UnsafeMutableRawPointer {
        let display = display ?? checked.path
        // On procfs, /proc/self/fd/N is this process's descriptor N; anything else could be a
        // directory someone made.
        let type: Int64
        do { type = try system.fileSystemType("/proc/self/fd") } catch {
            throw .noProcFileSystem("/proc/self/fd cannot be used (\(error.reason))")
        }
        guard type == procFileSystemType else {
            throw .noProcFileSystem("/proc/self/fd is not on procfs (file system type 0x\(String(type, radix: 16)))")
        }
        let identity = FileIdentity(device: checked.device, inode: checked.inode)
        let number: Int32
        do {
            number = try descriptorNames.withLock { (names) throws(SystemCallError) -> Int32 in
                var minimum: Int32 = 0
                while true {
                    let copy = try system.duplicate(checked.descriptor, minimum: minimum, path: display)
                    if let used = names[copy], used != identity {
                        try? system.close(copy, path: display)
                        minimum = copy + 1
                        continue
                    }
                    names[copy] = identity
                    return copy
                }
            }
        } catch {
            throw .notLoadable("no descriptor for /proc/self/fd: \(error.reason)")
        }
        defer { try? system.close(number, path: display) }
        let name = "/proc/self/fd/\(number)"
        _ = dlerror()
        guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
            throw .notLoadable(reason.replacing(name, with: display))
        }
        return handle
    }

    /// For development only: `dlopen`s `file` as it is, unchecked.
    private static func loadInsecurely(_ path: String, as file: String? = nil) throws(PluginRefusal) -> LoadedPlugin {
        let file = file ?? path
        try entryChecked(path: path, as: file)
        return try ExitGuard.shared.loading(file) { () throws(PluginRefusal) in
            _ = dlerror()
            guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
                let reason = dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
                throw .notLoadable(file: file, reason: reason)
            }
            return try table(handle, as: file)
        }
    }

    /// Finds the entry point of a loaded plugin and checks its table; refusals and the plugin name it `file`.
    private static func table(_ handle: UnsafeMutableRawPointer, as file: String) throws(PluginRefusal) -> LoadedPlugin {
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
        guard let id = try text(plugin.id, "id", file: file) else { throw .missingField(file: file, field: "id") }
        guard let version = try text(plugin.version, "version", file: file) else { throw .missingField(file: file, field: "version") }
        guard plugin.capture != nil else { throw .missingField(file: file, field: "capture") }
        if let problem = PluginNaming.idProblem(id) { throw .badNaming(file: file, field: "id", value: id, problem: problem) }
        if let problem = PluginNaming.versionProblem(version) {
            throw .badNaming(file: file, field: "version", value: version, problem: problem)
        }
        let buildIdentity = try text(plugin.build_identity, "build_identity", file: file)
        if let buildIdentity, buildIdentity.hasPrefix("swift-"), buildIdentity != BuildIdentity.swiftRuntime {
            throw .buildIdentityMismatch(file: file, plugin: buildIdentity, host: BuildIdentity.swiftRuntime)
        }
        return LoadedPlugin(
            table: plugin, file: file, kind: kind, id: id, version: version, description: try text(plugin.description, "description", limit: longTextLimit, file: file),
            abiMajor: plugin.abi_major, abiMinor: plugin.abi_minor, settings: try settings(of: plugin, file: file),
            buildIdentity: buildIdentity)
    }

    /// The most settings a plugin may declare.
    static let maximumSettings: UInt32 = 256

    /// The settings `plugin` declares (nil: none, the 1.0 behaviour), each checked.
    private static func settings(of plugin: pf_plugin, file: String) throws(PluginRefusal) -> [DeclaredSetting]? {
        guard plugin.setting_count > 0 else { return nil }
        func refuse(_ problem: String) -> PluginRefusal { .badSettings(file: file, problem: problem) }
        guard plugin.setting_count <= maximumSettings else {
            throw refuse("pf_plugin.setting_count is \(plugin.setting_count), more than \(maximumSettings)")
        }
        guard let base = plugin.settings else { throw refuse("pf_plugin.setting_count is \(plugin.setting_count) but settings is NULL") }
        let minimum = UInt32(2 * MemoryLayout<UInt32>.size + 3 * MemoryLayout<UnsafeRawPointer>.size)   // PF_SETTING_SIZE_1_1
        guard plugin.setting_size >= minimum, plugin.setting_size % UInt32(MemoryLayout<UnsafeRawPointer>.alignment) == 0 else {
            throw refuse("pf_plugin.setting_size is \(plugin.setting_size), not sizeof(pf_setting) (at least \(minimum), a multiple of \(MemoryLayout<UnsafeRawPointer>.alignment))")
        }
        var declared: [DeclaredSetting] = []
        var keys = Set<String>()
        for index in 0..<Int(plugin.setting_count) {
            var entry = pf_setting()
            let start = UnsafeRawPointer(base) + index * Int(plugin.setting_size)
            withUnsafeMutableBytes(of: &entry) { copy in
                copy.copyMemory(from: UnsafeRawBufferPointer(start: start, count: min(Int(plugin.setting_size), copy.count)))
            }
            guard let key = try text(entry.key, "settings[\(index)].key", file: file) else { throw refuse("settings[\(index)].key is NULL or empty") }
            let shown = DisplayText.escaped(key)
            if let problem = DeclaredSetting.keyProblem(key) { throw refuse("settings[\(index)].key \"\(shown)\" \(problem)") }
            guard keys.insert(key).inserted else { throw refuse("settings[\(index)].key \"\(key)\" is declared twice") }
            guard let type = DeclaredSetting.ValueType(abiValue: entry.type) else {
                throw refuse("settings[\(index)] (\(key)) has unknown type \(entry.type) (known: 1 string, 2 bool, 3 int, 4 path, 5 list)")
            }
            guard let help = try text(entry.help, "settings[\(index)].help", limit: longTextLimit, file: file) else {
                throw refuse("settings[\(index)] (\(key)) has no help line")
            }
            let defaultValue = try entry.default_value.map { (value) throws(PluginRefusal) in
                try text(value, "settings[\(index)].default_value", limit: longTextLimit, file: file, empty: true) ?? ""
            }
            if let defaultValue, let problem = type.problem(defaultValue) {
                throw refuse("settings[\(index)] (\(key)) has default \"\(DisplayText.escaped(defaultValue))\", which \(problem)")
            }
            declared.append(DeclaredSetting(key: key, type: type, required: entry.required != 0, defaultValue: defaultValue, help: help))
        }
        return declared
    }

    /// The longest id, version, build identity or setting key, with its NUL.
    static let shortTextLimit = 256
    /// The longest description, help line or default value, with its NUL.
    static let longTextLimit = 4096

    /// A string of the table, read no further than `limit` bytes (a plugin's string without a NUL
    /// must not send the host reading through its memory): nil when NULL or empty (unless `empty`).
    private static func text(_ pointer: UnsafePointer<CChar>?, _ field: String, limit: Int = shortTextLimit,
                             file: String, empty: Bool = false) throws(PluginRefusal) -> String? {
        guard let pointer else { return nil }
        let length = strnlen(pointer, limit)
        guard length < limit else { throw .unterminated(file: file, field: field, limit: limit) }
        guard length > 0 || empty else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    private struct FileIdentity: Hashable, Sendable {
        let device: UInt64
        let inode: UInt64
    }
}
