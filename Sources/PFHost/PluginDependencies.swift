import PFSystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Checks what the dynamic loader would load along with a plugin, before anything is loaded: a
/// trusted plugin that names a library in a directory others can write would run their
/// constructors just the same.
///
/// For the plugin, and in turn for every library found this way, it reads the dynamic section
/// (``ELFDynamicSection``) and follows the loader's search (glibc's `ld.so`):
///
/// - the directories searched for an object's libraries are its `DT_RPATH` entries and those of
///   the objects that led to it (only when it has no `DT_RUNPATH`), then its `DT_RUNPATH`
///   entries. Each must pass ``PluginTrust/checkLibraryDirectory(_:in:)``: trusted, and not
///   writable by others even when sticky, since anyone could add a library there. A missing one
///   is fine when nobody else could create it. An entry using `$LIB` or `$PLATFORM`, or a relative
///   one (searched from the current directory), is refused: pfhost cannot tell what it names;
/// - the loader also looks in subdirectories of each (`glibc-hwcaps/x86-64-v3`, `tls/haswell/…`:
///   hardware-specific variants), so every directory within ``maximumVariantDepth`` levels beneath
///   whose name has no dot is checked the same way, at most ``maximumVariantDirectories`` of them;
/// - `$ORIGIN` (or `${ORIGIN}`) is the directory holding the object's checked file. Objects are
///   loaded from `/proc/self/fd`, where the loader sees `$ORIGIN`, so it never searches there:
///   such a directory only says where pfhost finds libraries to load ahead by descriptor, and
///   is checked as the plugin directory is (sticky allowed, no variants). An entry that climbs out
///   of `/proc/self/fd` with `..` is also checked where it leads, as the loader will search it;
/// - every file found in these directories under a `DT_NEEDED`, `DT_FILTER` or `DT_AUXILIARY`
///   name must pass ``PluginTrust/checkLibrary(_:in:)``, and its own libraries are checked in
///   turn; a name with a `/` is a path, checked as such.
///
/// Libraries not found in these directories are the system's (`LD_LIBRARY_PATH`,
/// `/etc/ld.so.cache`, `/lib`, `/usr/lib`): they are not checked here.
///
/// ``check(_:_:)`` returns the libraries found at the top of these directories, each open,
/// dependencies first, so that ``PluginLoader`` can load exactly these files first.
final class PluginDependencies {
    /// One library to load before the plugin: the name it is asked for, the checked file, and
    /// its soname (the loader matches a library already loaded by its soname, not by its file).
    struct Library {
        let name: String
        let file: PluginTrust.Checked
        let soname: String?
    }

    /// How deep beneath a library directory the loader looks for variants (`tls/haswell/avx512_1/x86_64`).
    static let maximumVariantDepth = 4
    /// At most this many directories beneath one library directory are checked.
    static let maximumVariantDirectories = 4096
    /// At most this many objects are checked for one plugin.
    static let maximumObjects = 256

    let trust: PluginTrust
    /// Library directories already checked in this load, by expanded path.
    private var directories: [String: SearchDirectory] = [:]

    init(trust: PluginTrust) {
        self.trust = trust
    }

    /// An `RPATH` or `RUNPATH` entry of an object, expanded.
    private struct SearchEntry {
        let object: String
        let tag: String
        let entry: String
        /// `$ORIGIN` expanded to the directory holding the object's checked file: where the
        /// libraries were put.
        let path: String
        /// Whether it uses `$ORIGIN`. The object is loaded from `/proc/self/fd`, so the loader
        /// expands `$ORIGIN` to that: pfhost takes the libraries from ``path`` itself (by
        /// descriptor), and the loader searches ``loaderPath``.
        let usesOrigin: Bool
        /// For an `$ORIGIN` entry, what the loader searches outside `/proc/self/fd` (an entry
        /// climbing out of it with `..`), or nil.
        let loaderPath: String?
    }

    /// A directory libraries are taken from, checked: nil when it does not exist; the relative
    /// paths of it ("") and of the variant directories beneath it, with the names in each.
    private struct SearchDirectory {
        let directory: PluginTrust.Checked?
        let variants: [(path: String, names: Set<String>)]
    }

    /// Checks everything the loader would load with `plugin` from its library directories.
    ///
    /// - Returns: the libraries to load before it, dependencies first.
    func check(_ plugin: PluginTrust.Checked, _ dynamic: ELFDynamicSection) throws(PluginDependencyProblem) -> [Library] {
        var libraries: [Library] = []
        var visited = Set<String>()
        try visit(plugin, dynamic, inherited: [], libraries: &libraries, visited: &visited)
        return libraries
    }

    /// Checks `object`'s library directories and libraries, and recursively theirs; appends to
    /// `libraries` what the loader would take from those directories, dependencies first.
    private func visit(_ object: PluginTrust.Checked, _ dynamic: ELFDynamicSection, inherited: [SearchEntry],
                       libraries: inout [Library], visited: inout Set<String>) throws(PluginDependencyProblem) {
        // A library this process has already loaded is the one the loader uses for that name,
        // whatever the search path says: nothing would be read from the directories for it.
        // (For a Swift plugin that is every Swift runtime library, which pfhost itself links.)
        let wanted = (dynamic.needed + dynamic.filters).filter { $0.contains("/") || !Self.isLoaded($0) }
        guard !wanted.isEmpty else { return }
        let origin = Self.parent(of: object.path)
        let rpath = try entries(dynamic.rpath, tag: "RPATH", object: object.path, origin: origin)
        let runpath = try entries(dynamic.runpath, tag: "RUNPATH", object: object.path, origin: origin)
        // ld.so: the RPATHs of this object and of those that led to it, unless it has a RUNPATH.
        let chain = rpath + inherited
        // Every directory is checked before any library is looked up: those the loader searches
        // strictly (with their variants), those behind $ORIGIN as the plugin directory is.
        var lookups: [SearchDirectory] = []
        for entry in (dynamic.runpath == nil ? chain : []) + runpath {
            if entry.usesOrigin {
                lookups.append(try bundleDirectory(entry))
                if let loaderPath = entry.loaderPath { lookups.append(try searchDirectory(entry, path: loaderPath)) }
            } else {
                lookups.append(try searchDirectory(entry, path: entry.path))
            }
        }

        for name in wanted {
            var found: [PluginTrust.Checked] = []
            var first: PluginTrust.Checked?
            if name.contains("/") {
                // A path, opened as it is (after $ORIGIN), relative ones from the current directory.
                let path = try expand(name, tag: "NEEDED", object: object.path, origin: origin)
                do {
                    if path.usesOrigin {
                        // pfhost loads it ahead from where it was put; the loader would look in
                        // /proc/self/fd (nothing there) or where `..` leads out of it.
                        if let library = try trust.checkFileIfPresent(path.path) { found.append(library); first = library }
                        if let loaderPath = path.loaderPath, let library = try trust.checkLibrary(loaderPath) { found.append(library) }
                    } else if let library = try trust.checkLibrary(path.path) {
                        found.append(library)
                        first = library
                    }
                } catch {
                    throw .untrustedLibrary(object: object.path, name: name, problem: error)
                }
            } else {
                var variantFirst = false
                for directory in lookups {
                    guard let base = directory.directory else { continue }
                    for variant in directory.variants where variant.names.contains(name) {
                        let library: PluginTrust.Checked?
                        do { library = try trust.checkLibrary(variant.path.isEmpty ? name : variant.path + "/" + name, in: base) } catch {
                            throw .untrustedLibrary(object: object.path, name: name, problem: error)
                        }
                        guard let library else { continue }
                        found.append(library)
                        // The loader prefers a variant it can use, in an order pfhost does not
                        // know: only a library with no variant before it is loaded ahead.
                        if first == nil && !variantFirst {
                            if variant.path.isEmpty { first = library } else { variantFirst = true }
                        }
                    }
                }
            }
            for library in found {
                let key = "\(library.device):\(library.inode):" + chain.map(\.path).joined(separator: ":")
                guard visited.insert(key).inserted else { continue }
                guard visited.count <= Self.maximumObjects else {
                    throw .tooMany(object: object.path, what: "more than \(Self.maximumObjects) libraries to check")
                }
                let libraryDynamic: ELFDynamicSection
                do { libraryDynamic = try ELFDynamicSection(descriptor: library.descriptor, path: library.path, system: trust.system) } catch {
                    throw .malformedLibrary(object: object.path, name: name, path: library.path, problem: error)
                }
                try visit(library, libraryDynamic, inherited: chain, libraries: &libraries, visited: &visited)
                if library === first { libraries.append(Library(name: name, file: library, soname: libraryDynamic.soname)) }
            }
        }
    }

    /// The entries of a colon-separated `DT_RPATH` or `DT_RUNPATH`, expanded.
    private func entries(_ list: String?, tag: String, object: String, origin: String) throws(PluginDependencyProblem) -> [SearchEntry] {
        guard let list else { return [] }
        var result: [SearchEntry] = []
        // An empty entry is the current directory for ld.so: `expand` refuses it as relative.
        for entry in list.split(separator: ":", omittingEmptySubsequences: false).map(String.init) {
            let expanded = try expand(entry, tag: tag, object: object, origin: origin)
            result.append(SearchEntry(object: object, tag: tag, entry: entry, path: expanded.path,
                                      usesOrigin: expanded.usesOrigin, loaderPath: expanded.loaderPath))
        }
        return result
    }

    /// Where the loader sees `$ORIGIN` for an object pfhost loads through its descriptor.
    static let descriptorOrigin = "/proc/self/fd"

    /// `entry` with `$ORIGIN` and `${ORIGIN}` replaced by `origin` (`path`) and by
    /// ``descriptorOrigin`` (normalised: `loaderPath`, nil while it stays inside it); refused when
    /// it uses `$LIB` or `$PLATFORM` (which name a directory by platform), when it is relative, or
    /// when as the loader sees it, it names one of pfhost's descriptors.
    private func expand(_ entry: String, tag: String, object: String, origin: String) throws(PluginDependencyProblem)
        -> (path: String, usesOrigin: Bool, loaderPath: String?) {
        let shown = entry.isEmpty ? "''" : entry
        let (path, usesOrigin) = try substitute(entry, origin: origin, tag: tag, object: object, shown: shown)
        guard path.hasPrefix("/") else {
            throw .uncheckableEntry(object: object, tag: tag, entry: shown,
                                    reason: "is relative, so the loader would look for libraries from whatever the current directory is; relink with an absolute path or $ORIGIN")
        }
        guard usesOrigin else { return (path, false, nil) }
        let loaderPath = Self.normalised(try substitute(entry, origin: Self.descriptorOrigin, tag: tag, object: object, shown: shown).0)
        guard loaderPath == Self.descriptorOrigin || loaderPath.hasPrefix(Self.descriptorOrigin + "/") else {
            return (path, true, loaderPath)
        }
        // Inside /proc/self/fd nothing can be created; only a descriptor number leads anywhere.
        let inside = loaderPath.dropFirst(Self.descriptorOrigin.count).split(separator: "/")
        if let first = inside.first, first.allSatisfy(\.isNumber) {
            throw .uncheckableEntry(object: object, tag: tag, entry: shown,
                                    reason: "names, as the loader sees it when pfhost loads from /proc/self/fd, one of pfhost's own descriptors (\(loaderPath)); relink without it")
        }
        return (path, true, nil)
    }

    /// `entry` with the `$ORIGIN` tokens replaced by `origin`, and whether it had one. As for
    /// ld.so, `$NAME` is a token only when the name ends the entry or is followed by `/`
    /// (`$ORIGINAL` is literal); `$LIB` and `$PLATFORM` are refused.
    private func substitute(_ entry: String, origin: String, tag: String, object: String, shown: String) throws(PluginDependencyProblem)
        -> (String, Bool) {
        var expanded = ""
        var usesOrigin = false
        var rest = Substring(entry)
        while let dollar = rest.firstIndex(of: "$") {
            expanded += rest[..<dollar]
            let after = rest[rest.index(after: dollar)...]
            var token: Substring?
            var end = after.startIndex
            if after.hasPrefix("{"), let close = after.firstIndex(of: "}") {
                token = after[after.index(after: after.startIndex)..<close]
                end = after.index(after: close)
            } else {
                let name = after.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                if name.endIndex == after.endIndex || after[name.endIndex] == "/" {
                    token = name
                    end = name.endIndex
                }
            }
            switch token {
            case "ORIGIN":
                expanded += origin
                usesOrigin = true
                rest = after[end...]
            case "LIB", "PLATFORM":
                throw .uncheckableEntry(object: object, tag: tag, entry: shown,
                                        reason: "uses \(rest[dollar..<end]), which pfhost does not expand (the loader picks a directory by platform); relink with the directory spelled out")
            default:
                expanded += "$"
                rest = after
            }
        }
        expanded += rest
        return (expanded, usesOrigin)
    }

    /// Whether this process has an object loaded under `name` (its soname or the name it was asked by).
    static func isLoaded(_ name: String) -> Bool {
        guard let handle = dlopen(name, RTLD_LAZY | RTLD_NOLOAD) else {
            _ = dlerror()
            return false
        }
        dlclose(handle)
        return true
    }

    /// An absolute path with `.` and `..` resolved lexically (`/proc/self/fd/..` is `/proc/self`:
    /// nothing in procfs between them is a symlink that `..` would see through differently).
    static func normalised(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." { _ = parts.popLast(); continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The directory an `$ORIGIN` entry puts libraries in: checked as the plugin directory is
    /// (the loader never searches it: pfhost loads what it finds there by descriptor), its names.
    private func bundleDirectory(_ entry: SearchEntry) throws(PluginDependencyProblem) -> SearchDirectory {
        let key = "bundle:" + entry.path
        if let known = directories[key] { return known }
        let base: PluginTrust.Checked?
        do { base = try trust.checkDirectoryIfPresent(entry.path) } catch {
            throw .untrustedDirectory(object: entry.object, tag: entry.tag, entry: entry.entry, problem: error)
        }
        let checked = SearchDirectory(directory: base, variants: try base.map { base throws(PluginDependencyProblem) in [("", Set(try names(in: base, entry: entry)))] } ?? [])
        directories[key] = checked
        return checked
    }

    /// `entry`'s directory, checked, with every directory beneath it to the variant depth (each
    /// checked too) and the names each holds. Cached for the rest of this load.
    private func searchDirectory(_ entry: SearchEntry, path: String) throws(PluginDependencyProblem) -> SearchDirectory {
        let key = "library:" + path
        if let known = directories[key] { return known }
        let base: PluginTrust.Checked?
        do { base = try trust.checkLibraryDirectory(path) } catch {
            throw .untrustedDirectory(object: entry.object, tag: entry.tag, entry: entry.entry, problem: error)
        }
        guard let base else {
            let missing = SearchDirectory(directory: nil, variants: [])
            directories[key] = missing
            return missing
        }
        var variants: [(path: String, names: Set<String>)] = []
        var queue: [(directory: PluginTrust.Checked, path: String, depth: Int)] = [(base, "", 0)]
        var count = 0
        while let item = queue.popLast() {
            let (directory, path, depth) = item
            let names = try self.names(in: directory, entry: entry)
            variants.append((path, Set(names)))
            guard depth < Self.maximumVariantDepth else { continue }
            // The loader's variant directories (`glibc-hwcaps`, `x86-64-v3`, `tls`, `haswell`,
            // `x86_64`…) never have a dot in their names; libraries always do.
            for name in names.sorted() where !name.contains(".") {
                guard let info = try linkStatus(name, in: directory, entry: entry) else { continue }
                let type = info.st_mode & S_IFMT
                guard type == S_IFDIR || type == S_IFLNK else { continue }
                let sub: PluginTrust.Checked?
                do { sub = try trust.checkLibraryDirectory(name, in: directory) } catch {
                    // A symlink to a file: not a directory the loader could search.
                    if case .wrongType = error, type == S_IFLNK { continue }
                    throw .untrustedDirectory(object: entry.object, tag: entry.tag, entry: entry.entry, problem: error)
                }
                guard let sub else { continue }
                count += 1
                guard count <= Self.maximumVariantDirectories else {
                    throw .tooMany(object: entry.object, what: "\(path) (\(entry.tag) \(entry.entry)) has more than \(Self.maximumVariantDirectories) directories within \(Self.maximumVariantDepth) levels, each of which the loader may search; keep the plugin's libraries in a directory of their own")
                }
                queue.append((sub, path.isEmpty ? name : path + "/" + name, depth + 1))
            }
        }
        let checked = SearchDirectory(directory: base, variants: variants)
        directories[key] = checked
        return checked
    }

    /// The names in a checked directory (opened for reading through its descriptor). Names that
    /// are not UTF-8 are left out: the loader never asks for one (library names were checked to be
    /// UTF-8) and its variant directories have ASCII names.
    private func names(in directory: PluginTrust.Checked, entry: SearchEntry) throws(PluginDependencyProblem) -> [String] {
        let system = trust.system
        do {
            let fd = try Array(".".utf8).withCString { (dot) throws(SystemCallError) -> Int32 in
                try system.open(at: directory.descriptor, dot, O_RDONLY | O_DIRECTORY, display: directory.path)
            }
            defer { try? system.close(fd, path: directory.path) }
            return try system.names(inDirectory: fd, path: directory.path).compactMap { String(validating: $0, as: UTF8.self) }
        } catch {
            throw .untrustedDirectory(object: entry.object, tag: entry.tag, entry: entry.entry,
                                      problem: .cannotCheck(path: directory.path, reason: "cannot be listed: \(error.reason)"))
        }
    }

    private func linkStatus(_ name: String, in directory: PluginTrust.Checked, entry: SearchEntry) throws(PluginDependencyProblem) -> stat? {
        let system = trust.system
        let path = directory.path + "/" + name
        do {
            return try Array(name.utf8).withCString { (name) throws(SystemCallError) -> stat? in
                try system.linkStatus(at: directory.descriptor, name, display: path)
            }
        } catch {
            throw .untrustedDirectory(object: entry.object, tag: entry.tag, entry: entry.entry, problem: .cannotCheck(path: path, reason: error.reason))
        }
    }

    private static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }
}
