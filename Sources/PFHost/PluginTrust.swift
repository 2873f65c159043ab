import PFSystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Decides whether a plugin directory, and a `.so` file in it, may be loaded at all: OpenSSH's
/// `StrictModes`, for code that runs with the host's privileges.
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
/// The walk resolves symlinks itself, component by component, and returns the path it ended at,
/// free of symlinks. ``PluginLoader`` opens that path rather than the one it was given, so nobody
/// else can swap what it names between the check and the `dlopen`.
///
/// ```swift
/// let trust = PluginTrust()
/// let directory = try trust.checkDirectory("/opt/agent/plugins")
/// let file = try trust.checkFile("libpf-model.so", in: directory)
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

        /// The path at fault.
        public var path: String {
            switch self {
            case .writable(let path, _), .foreignOwner(let path, _, _), .wrongType(let path, _, _),
                 .cannotCheck(let path, _), .tooManyLinks(let path):
                path
            }
        }

        public var description: String {
            switch self {
            case .writable(let path, let mode):
                // Name exactly the bits to clear, so the command fixes this and changes nothing else.
                let group = mode & 0o020 != 0, others = mode & 0o002 != 0
                let who = others ? "others" : "its group"
                let bits = (group ? "g" : "") + (others ? "o" : "")
                return "\(path) is writable by \(who) (mode \(Self.octal(mode))); run chmod \(bits)-w \(PluginTrust.shellQuoted(path))"
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
            }
        }

        private static func octal(_ mode: UInt32) -> String {
            let digits = String(mode & 0o7777, radix: 8)
            return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
        }
    }

    /// A path that passed: where the walk ended (absolute, no symlinks) and the file's identity.
    public struct Checked: Hashable, Sendable {
        /// The absolute path the walk ended at, with no symlink in it.
        public let path: String
        /// `st_dev` and `st_ino`, so that a file reached twice is recognised.
        public let device: UInt64
        public let inode: UInt64
    }

    /// How many symlinks a walk follows before giving up, as Linux's `MAXSYMLINKS`.
    public static let maximumLinks = 40

    /// The user besides root whose files are trusted.
    public let effectiveUser: UInt32

    /// A policy trusting root and `effectiveUser` (by default, the process's effective user).
    public init(effectiveUser: UInt32 = UInt32(geteuid())) {
        self.effectiveUser = effectiveUser
    }

    /// Checks a plugin directory and every directory above it.
    ///
    /// - Parameter path: absolute, or relative to the current directory.
    /// - Returns: the directory's real path, to pass to ``checkFile(_:in:)``.
    public func checkDirectory(_ path: String) throws(Problem) -> Checked {
        try walk(path, from: nil, expecting: S_IFDIR)
    }

    /// Checks a file: every directory above it, and every symlink on the way and the directories
    /// above each one's target.
    ///
    /// - Parameters:
    ///   - path: a name inside `directory`, or with no `directory` an absolute path or one
    ///     relative to the current directory.
    ///   - directory: a directory ``checkDirectory(_:)`` accepted; its ancestors are not walked again.
    /// - Returns: the path to open and the file's identity.
    public func checkFile(_ path: String, in directory: Checked? = nil) throws(Problem) -> Checked {
        try walk(path, from: directory?.path, expecting: S_IFREG)
    }

    /// Walks `path` one component at a time from `start` (a checked directory's real path) or from
    /// `/`, checking each directory, following each symlink, and checking what it ends at.
    private func walk(_ path: String, from start: String?, expecting expected: mode_t) throws(Problem) -> Checked {
        var current: String
        var pending: [Substring]   // what is left to walk, next component last
        if let start, !path.hasPrefix("/") {
            current = start
            pending = Self.components(path)
        } else {
            current = "/"
            pending = Self.components(path.hasPrefix("/") ? path : try Self.workingDirectory(for: path) + "/" + path)
        }
        var info = try checkDirectory(at: current)
        var links = 0
        while let component = pending.popLast() {
            if component == "." { continue }
            if component == ".." {
                // `current` holds no symlink, so its parent is lexical; it was walked through already.
                current = Self.parent(of: current)
                info = try checkDirectory(at: current)
                continue
            }
            let next = current == "/" ? "/" + component : current + "/" + component
            // Others may add entries to a sticky directory they can write (its mode bits were
            // allowed only because it is sticky), so owners matter for what we find in it.
            let shared = info.st_mode & 0o022 != 0
            let entry = try Self.linkStatus(next)
            if entry.st_mode & S_IFMT == S_IFLNK {
                links += 1
                guard links <= Self.maximumLinks else { throw .tooManyLinks(path: next) }
                if shared { try checkOwner(next, entry) }
                let target = try Self.readLink(next)
                pending += Self.components(target)
                if target.hasPrefix("/") {
                    current = "/"
                    info = try checkDirectory(at: current)
                }
                continue
            }
            info = try check(next, entry, expecting: pending.isEmpty ? expected : S_IFDIR)
            current = next
        }
        guard info.st_mode & S_IFMT == expected else {
            // Only when the path ended at `/` or `..` above it.
            throw .wrongType(path: current, found: Self.kind(of: info.st_mode), expected: Self.kind(of: expected))
        }
        return Checked(path: current, device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// `lstat`s a directory the walk is in (`/`, the start, a `..`) and checks it.
    private func checkDirectory(at path: String) throws(Problem) -> stat {
        try check(path, try Self.linkStatus(path), expecting: S_IFDIR)
    }

    /// Checks one directory or file the walk reached (not a symlink).
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

    private static let system = SystemCalls()

    /// `lstat`, a missing path being a problem like any other.
    private static func linkStatus(_ path: String) throws(Problem) -> stat {
        do throws(SystemCallError) {
            guard let info = try system.linkStatus(path) else {
                throw SystemCallError(operation: "stat", path: path, code: ENOENT)
            }
            return info
        } catch {
            throw .cannotCheck(path: path, reason: error.reason)
        }
    }

    private static func readLink(_ path: String) throws(Problem) -> String {
        let target: [UInt8]
        do { target = try system.readLink(path) } catch { throw .cannotCheck(path: path, reason: error.reason) }
        guard !target.isEmpty else { throw .cannotCheck(path: path, reason: "empty symbolic link") }
        return String(decoding: target, as: UTF8.self)
    }

    /// The current directory, which the kernel reports without symlinks, to resolve `path` against.
    private static func workingDirectory(for path: String) throws(Problem) -> String {
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
