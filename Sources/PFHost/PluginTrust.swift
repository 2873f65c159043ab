import PFSystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Decides whether a plugin directory, a `.so` file in it, and the directories its libraries are
/// looked up in may be used at all: OpenSSH's `StrictModes`, for code that runs with the host's
/// privileges.
///
/// `dlopen` runs a library's constructors before the host sees its table, so a plugin that only
/// a later check refuses has already run. The check therefore comes first, and asks who could have
/// put the bytes there. A path is trusted when every directory it passes through (from `/`), every
/// symlink it follows, and the file it ends at can be changed only by root or the effective user:
///
/// - each directory and the file are owned by root or the effective user;
/// - the file is a regular file, not writable by its group or others;
/// - no directory is writable by its group or others, unless it is sticky (`+t`, like `/tmp`):
///   there others can add entries but not rename or remove ours, and whatever is reached through it
///   is checked in turn;
/// - a symlink in such a sticky, shared directory is owned by root or the effective user (anyone
///   else could replace it); elsewhere a symlink can only be replaced by whoever may write its
///   directory, already checked.
///
/// The walk holds a descriptor for each directory it is in and looks the next name up in that
/// descriptor (`fstatat`, `readlinkat`, `openat` with `O_NOFOLLOW`), so what it checks is what it
/// goes through, even while someone renames or swaps directories around it: there is no path to
/// resolve again later. Each directory and the file are opened only after their `lstat` data passed,
/// then `fstat`ed: a descriptor that is not the very file the check saw (device and inode), or whose
/// owner or mode no longer pass, is ``Problem/changed(path:)``. The result, ``Checked``, holds the
/// open descriptor, which ``PluginLoader`` loads through `/proc/self/fd`.
///
/// A directory where the dynamic loader looks for libraries (``checkLibraryDirectory(_:in:)``)
/// must not be writable by others even when sticky, since anyone could add a library to it; and a
/// path there that does not exist is fine only when nobody else could create it.
///
/// ```swift
/// let trust = PluginTrust()
/// let directory = try trust.checkDirectory("/opt/agent/plugins")
/// let file = try trust.checkFile("libpf-model.so", in: directory)   // file.descriptor is open
/// ```
///
/// Access control lists and capabilities are not consulted: only owners and mode bits.
public struct PluginTrust: Sendable {
    /// Why a path may not be trusted. Each message names the path at fault (which may be an
    /// ancestor directory or a symlink's target) and what to do about it.
    public enum Problem: Error, Hashable, Sendable, CustomStringConvertible {
        /// Writable by its group or others (and, for a directory, not sticky). `mode` is the
        /// permission bits, `0o7777` at most.
        case writable(path: String, mode: UInt32)
        /// Owned by someone other than root or the effective user.
        case foreignOwner(path: String, owner: UInt32, effectiveUser: UInt32)
        /// Not the kind of file expected there: `found` and `expected` are "a directory", "a
        /// regular file", "a FIFO" and the like.
        case wrongType(path: String, found: String, expected: String)
        /// `lstat` or `readlink` failed (a missing file, a permission problem).
        case cannotCheck(path: String, reason: String)
        /// More than ``maximumLinks`` symlinks on the way.
        case tooManyLinks(path: String)
        /// What was opened at `path` is not what was checked there a moment before (another file,
        /// or the same one with another owner or mode): it changed during the check.
        case changed(path: String)
        /// A directory libraries are looked up in is writable by others: sticky or not, anyone
        /// could add a library to it.
        case sharedLibraryDirectory(path: String, mode: UInt32)
        /// `path` does not exist and `parent`, writable by others (`mode`), would let anyone
        /// create it, and put libraries there.
        case creatable(path: String, parent: String, mode: UInt32)

        /// The path at fault.
        public var path: String {
            switch self {
            case .writable(let path, _), .foreignOwner(let path, _, _), .wrongType(let path, _, _),
                 .cannotCheck(let path, _), .tooManyLinks(let path), .changed(let path),
                 .sharedLibraryDirectory(let path, _), .creatable(let path, _, _):
                path
            }
        }

        public var description: String {
            switch self {
            case .writable(let path, let mode):
                // Name exactly the bits to clear, so the command fixes this and changes nothing else.
                return "\(path) is writable by \(Self.who(mode)) (mode \(Self.octal(mode))); run chmod \(Self.bits(mode))-w \(PluginTrust.shellQuoted(path))"
            case .foreignOwner(let path, let owner, let effectiveUser):
                let trusted = effectiveUser == 0 ? "root" : "root or you (uid \(effectiveUser))"
                let fix = effectiveUser == 0
                    ? "run chown root \(PluginTrust.shellQuoted(path)) if you trust it"
                    : "have root run chown \(effectiveUser) \(PluginTrust.shellQuoted(path)) if you trust it, or use a copy you own"
                return "\(path) is owned by uid \(owner), not \(trusted); \(fix)"
            case .wrongType(let path, let found, let expected):
                return "\(path) is \(found), not \(expected)"
            case .cannotCheck(let path, let reason):
                return "\(path) cannot be checked: \(reason)"
            case .tooManyLinks(let path):
                return "\(path): more than \(PluginTrust.maximumLinks) symbolic links on the way"
            case .changed(let path):
                return "\(path) changed while it was being checked (replaced, or its owner or mode changed, between the check and the open); nothing was loaded, try again once it is settled"
            case .sharedLibraryDirectory(let path, let mode):
                return "\(path) is writable by \(Self.who(mode)) (mode \(Self.octal(mode))) and libraries are looked up there: sticky or not, anyone could add one; "
                    + "keep the libraries in a directory only root or you can write (or run chmod \(Self.bits(mode))-w \(PluginTrust.shellQuoted(path)))"
            case .creatable(let path, let parent, let mode):
                return "\(path) does not exist, and \(parent) is writable by \(Self.who(mode)) (mode \(Self.octal(mode))): anyone could create it and put libraries there; "
                    + "create it yourself, or relink without it"
            }
        }

        private static func who(_ mode: UInt32) -> String { mode & 0o002 != 0 ? "others" : "its group" }

        private static func bits(_ mode: UInt32) -> String { (mode & 0o020 != 0 ? "g" : "") + (mode & 0o002 != 0 ? "o" : "") }

        private static func octal(_ mode: UInt32) -> String {
            let digits = String(mode & 0o7777, radix: 8)
            return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
        }
    }

    /// A path that passed, held open: where the walk ended (absolute, no symlinks), the file's
    /// identity, and a descriptor of exactly that file, closed when this is released.
    public final class Checked: Sendable {
        /// The absolute path the walk ended at, with no symlink in it (for messages and `$ORIGIN`:
        /// the file is reached through ``descriptor``, never through this path).
        public let path: String
        /// `st_dev` and `st_ino`, so that a file reached twice is recognised.
        public let device: UInt64
        public let inode: UInt64
        /// The checked file itself: `O_RDONLY` for a regular file, `O_PATH` for a directory.
        public let descriptor: Int32

        init(path: String, device: UInt64, inode: UInt64, descriptor: Int32) {
            self.path = path
            self.device = device
            self.inode = inode
            self.descriptor = descriptor
        }

        deinit { try? SystemCalls().close(descriptor, path: path) }
    }

    /// How many symlinks a walk follows before giving up, as Linux's `MAXSYMLINKS`.
    public static let maximumLinks = 40

    /// The user besides root whose files are trusted.
    public let effectiveUser: UInt32
    /// Every call of the walk goes through it (tests pass a fault hook).
    let system: SystemCalls

    /// A policy trusting root and `effectiveUser` (by default, the process's effective user).
    public init(effectiveUser: UInt32 = UInt32(geteuid())) {
        self.init(effectiveUser: effectiveUser, system: SystemCalls())
    }

    /// The same, making its calls through `system` (whose fault hook a test can use to change the
    /// file system between the check of a name and its open).
    init(effectiveUser: UInt32 = UInt32(geteuid()), system: SystemCalls) {
        self.effectiveUser = effectiveUser
        self.system = system
    }

    /// Checks a plugin directory and every directory above it.
    ///
    /// - Parameter path: absolute, or relative to the current directory.
    /// - Returns: the directory, open, to pass to ``checkFile(_:in:)``.
    public func checkDirectory(_ path: String) throws(Problem) -> Checked {
        try walk(path, from: nil, expecting: S_IFDIR, mode: .required)!
    }

    /// Checks a file: every directory above it, and every symlink on the way and the directories
    /// above each one's target.
    ///
    /// - Parameters:
    ///   - path: a name inside `directory`, or with no `directory` an absolute path or one
    ///     relative to the current directory.
    ///   - directory: a directory ``checkDirectory(_:)`` accepted; the walk starts at its
    ///     descriptor, so its ancestors are not walked again.
    /// - Returns: the file, open for reading, and its identity.
    public func checkFile(_ path: String, in directory: Checked? = nil) throws(Problem) -> Checked {
        try walk(path, from: directory, expecting: S_IFREG, mode: .required)!
    }

    /// Checks a directory the dynamic loader looks for libraries in (an `RPATH` or `RUNPATH`
    /// entry, or a directory beneath one): as ``checkDirectory(_:)``, and it must not be writable by
    /// its group or others even when sticky.
    ///
    /// - Returns: the directory, or nil when it does not exist and nobody but root and the
    ///   effective user could create it (the directory it would be in, or any on the way that is
    ///   missing, is not writable by others).
    public func checkLibraryDirectory(_ path: String, in directory: Checked? = nil) throws(Problem) -> Checked? {
        try walk(path, from: directory, expecting: S_IFDIR, mode: .library)
    }

    /// Checks a library the dynamic loader could load from `directory` (a checked library
    /// directory): as ``checkFile(_:in:)``.
    ///
    /// - Returns: the library, or nil when nothing is there and nobody but root and the effective
    ///   user could put anything there (as for ``checkLibraryDirectory(_:in:)``).
    public func checkLibrary(_ path: String, in directory: Checked? = nil) throws(Problem) -> Checked? {
        try walk(path, from: directory, expecting: S_IFREG, mode: .library)
    }

    /// Checks a directory as ``checkDirectory(_:)`` does (sticky is fine), except that a missing
    /// one is nil: for a directory pfhost itself takes libraries from, by descriptor, and the
    /// loader never searches.
    public func checkDirectoryIfPresent(_ path: String, in directory: Checked? = nil) throws(Problem) -> Checked? {
        try walk(path, from: directory, expecting: S_IFDIR, mode: .ifPresent)
    }

    /// Checks a file as ``checkFile(_:in:)`` does, except that a missing one is nil.
    public func checkFileIfPresent(_ path: String, in directory: Checked? = nil) throws(Problem) -> Checked? {
        try walk(path, from: directory, expecting: S_IFREG, mode: .ifPresent)
    }

    /// What a walk makes of a missing name and of a shared (sticky) directory it ends at.
    private enum Mode {
        /// Missing is a problem; a sticky directory at the end is fine.
        case required
        /// Missing is nil where nobody else could create it; the directory at the end must not be
        /// writable by others, sticky or not.
        case library
        /// Missing is nil; a sticky directory at the end is fine.
        case ifPresent
    }

    /// A directory the walk is in: a descriptor (owned unless it is the caller's start), its
    /// path and what `fstat` said of it.
    private struct Node {
        let fd: Int32
        var owned: Bool
        let path: String
        let info: stat
    }

    /// Walks `path` one component at a time from `start` (a checked directory) or from `/`,
    /// holding a descriptor for each directory it is in, checking each directory, following each
    /// symlink, and checking what it ends at; `mode` says what a missing name and a sticky
    /// directory at the end mean.
    private func walk(_ path: String, from start: Checked?, expecting expected: mode_t, mode: Mode) throws(Problem) -> Checked? {
        var stack: [Node] = []
        defer { for node in stack where node.owned { try? system.close(node.fd, path: node.path) } }
        var pending: [Substring]   // what is left to walk, next component last
        if let start, !path.hasPrefix("/") {
            stack = [Node(fd: start.descriptor, owned: false, path: start.path, info: try check(start.path, try status(start.descriptor, start.path), expecting: S_IFDIR))]
            pending = Self.components(path)
        } else {
            stack = [try openRoot()]
            pending = Self.components(path.hasPrefix("/") ? path : try workingDirectory(for: path) + "/" + path)
        }
        var links = 0
        while let component = pending.popLast() {
            if component == "." { continue }
            if component == ".." {
                // Every node holds no symlink, so `..` is the node below; above the start, the
                // parent is opened through the descriptor (`/..` is `/`).
                if stack.count > 1 {
                    let node = stack.removeLast()
                    if node.owned { try? system.close(node.fd, path: node.path) }
                } else if stack[0].path != "/" {
                    let parent = try open("..", in: stack[0], path: Self.parent(of: stack[0].path), type: S_IFDIR, seen: nil)
                    if stack[0].owned { try? system.close(stack[0].fd, path: stack[0].path) }
                    stack = [parent]
                }
                continue
            }
            let directory = stack[stack.count - 1]
            let name = String(component)
            let next = directory.path == "/" ? "/" + name : directory.path + "/" + name
            // Others may add entries to a sticky directory they can write (its mode bits were
            // allowed only because it is sticky), so owners matter for what we find in it.
            let shared = directory.info.st_mode & 0o022 != 0
            guard let entry = try linkStatus(name, in: directory, path: next) else {
                switch mode {
                case .required: throw .cannotCheck(path: next, reason: String(cString: strerror(ENOENT)))
                case .ifPresent: return nil
                case .library:
                    // Missing: fine where nobody else can create it, not in a shared directory.
                    if shared { throw .creatable(path: next, parent: directory.path, mode: UInt32(directory.info.st_mode) & 0o7777) }
                    return nil
                }
            }
            if entry.st_mode & S_IFMT == S_IFLNK {
                links += 1
                guard links <= Self.maximumLinks else { throw .tooManyLinks(path: next) }
                if shared { try checkOwner(next, entry) }
                let target = try readLink(name, in: directory, path: next)
                pending += Self.components(target)
                if target.hasPrefix("/") {
                    let root = try openRoot()
                    for node in stack where node.owned { try? system.close(node.fd, path: node.path) }
                    stack = [root]
                }
                continue
            }
            let type = pending.isEmpty ? expected : S_IFDIR
            // Refused before it is opened: nothing untrusted is ever opened, not even for reading.
            try check(next, entry, expecting: type)
            stack.append(try open(name, in: directory, path: next, type: type, seen: entry))
        }
        var last = stack[stack.count - 1]
        guard last.info.st_mode & S_IFMT == expected else {
            // Only when the path ended at `/` or `..` above it.
            throw .wrongType(path: last.path, found: Self.kind(of: last.info.st_mode), expected: Self.kind(of: expected))
        }
        if mode == .library && expected == S_IFDIR && last.info.st_mode & 0o022 != 0 {
            throw .sharedLibraryDirectory(path: last.path, mode: UInt32(last.info.st_mode) & 0o7777)
        }
        // The result takes the last descriptor (a copy when it is the caller's start).
        let descriptor: Int32
        if last.owned {
            descriptor = last.fd
            last.owned = false
            stack[stack.count - 1] = last
        } else {
            do { descriptor = try system.duplicate(last.fd, path: last.path) } catch {
                throw .cannotCheck(path: last.path, reason: error.reason)
            }
        }
        return Checked(path: last.path, device: UInt64(last.info.st_dev), inode: UInt64(last.info.st_ino), descriptor: descriptor)
    }

    /// Opens `name` in `directory` without following a symlink (`O_PATH` for a directory, read-only
    /// and non-blocking for a file), `fstat`s it, and requires it to be what `seen` (the `lstat`
    /// data checked a moment before) describes, still passing the check.
    private func open(_ name: String, in directory: Node, path: String, type: mode_t, seen: stat?) throws(Problem) -> Node {
        let flags = type == S_IFDIR ? SystemCalls.pathOnly | O_DIRECTORY | O_NOFOLLOW : O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY
        let fd: Int32
        do throws(SystemCallError) {
            fd = try Array(name.utf8).withCString { (name) throws(SystemCallError) -> Int32 in
                try system.open(at: directory.fd, name, flags, display: path)
            }
        } catch {
            // Gone, now a symlink, or no longer a directory: swapped since it was checked.
            if [ENOENT, ELOOP, ENOTDIR, ENXIO].contains(error.code) { throw .changed(path: path) }
            throw .cannotCheck(path: path, reason: error.reason)
        }
        do throws(Problem) {
            let info = try status(fd, path)
            if let seen, info.st_dev != seen.st_dev || info.st_ino != seen.st_ino { throw Problem.changed(path: path) }
            do { _ = try check(path, info, expecting: type) } catch { throw seen == nil ? error : .changed(path: path) }
            return Node(fd: fd, owned: true, path: path, info: info)
        } catch {
            try? system.close(fd, path: path)
            throw error
        }
    }

    /// `/`, opened and checked.
    private func openRoot() throws(Problem) -> Node {
        let fd: Int32
        do throws(SystemCallError) { fd = try system.open("/", SystemCalls.pathOnly | O_DIRECTORY) } catch { throw .cannotCheck(path: "/", reason: error.reason) }
        do {
            return Node(fd: fd, owned: true, path: "/", info: try check("/", try status(fd, "/"), expecting: S_IFDIR))
        } catch {
            try? system.close(fd, path: "/")
            throw error
        }
    }

    /// Checks one directory or file the walk reached (not a symlink); returns `info`.
    @discardableResult
    private func check(_ path: String, _ info: stat, expecting expected: mode_t) throws(Problem) -> stat {
        let type = info.st_mode & S_IFMT
        guard type == expected else {
            throw .wrongType(path: path, found: Self.kind(of: type), expected: Self.kind(of: expected))
        }
        try checkOwner(path, info)
        let sticky = type == S_IFDIR && info.st_mode & 0o1000 != 0
        if info.st_mode & 0o022 != 0 && !sticky {
            throw .writable(path: path, mode: UInt32(info.st_mode) & 0o7777)
        }
        return info
    }

    private func checkOwner(_ path: String, _ info: stat) throws(Problem) {
        let owner = UInt32(info.st_uid)
        guard owner == 0 || owner == effectiveUser else {
            throw .foreignOwner(path: path, owner: owner, effectiveUser: effectiveUser)
        }
    }

    /// The components of `path`, last first, without empty ones (from `//` or a trailing `/`).
    private static func components(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true).reversed()
    }

    private static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    private func status(_ fd: Int32, _ path: String) throws(Problem) -> stat {
        do { return try system.status(fd, path: path) } catch { throw .cannotCheck(path: path, reason: error.reason) }
    }

    /// `fstatat(AT_SYMLINK_NOFOLLOW)` of `name` in `directory`; nil when it does not exist.
    private func linkStatus(_ name: String, in directory: Node, path: String) throws(Problem) -> stat? {
        do {
            return try Array(name.utf8).withCString { (name) throws(SystemCallError) -> stat? in
                try system.linkStatus(at: directory.fd, name, display: path)
            }
        } catch {
            throw .cannotCheck(path: path, reason: error.reason)
        }
    }

    private func readLink(_ name: String, in directory: Node, path: String) throws(Problem) -> String {
        let target: [UInt8]
        do {
            target = try Array(name.utf8).withCString { (name) throws(SystemCallError) -> [UInt8] in
                try system.readLink(at: directory.fd, name, display: path)
            }
        } catch {
            throw .cannotCheck(path: path, reason: error.reason)
        }
        guard !target.isEmpty else { throw .cannotCheck(path: path, reason: "empty symbolic link") }
        return String(decoding: target, as: UTF8.self)
    }

    /// The current directory, which the kernel reports without symlinks, to resolve `path` against.
    private func workingDirectory(for path: String) throws(Problem) -> String {
        do { return try SystemCalls.currentDirectory() } catch {
            throw .cannotCheck(path: path, reason: "the current directory cannot be found: \(error.reason)")
        }
    }

    private static func kind(of type: mode_t) -> String {
        switch type & S_IFMT {
        case S_IFREG: "a regular file"
        case S_IFDIR: "a directory"
        case S_IFLNK: "a symbolic link"
        case S_IFIFO: "a FIFO"
        case S_IFSOCK: "a socket"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        default: "of unknown type"
        }
    }

    /// `path` as a shell word: as is when it is made of safe characters, else single-quoted.
    static func shellQuoted(_ path: String) -> String {
        let safe = path.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "/"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ":"), UInt8(ascii: "@"):
                true
            default:
                false
            }
        }
        if safe && !path.isEmpty { return path }
        return "'" + path.split(separator: "'", omittingEmptySubsequences: false).joined(separator: #"'\''"#) + "'"
    }
}
