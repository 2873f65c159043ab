import PFSystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A directory the user pointed a plugin at, held open, and the one way to reach what is under it.
///
/// The root itself is opened as the user named it; everything beneath it is opened relative to
/// its descriptor following no symlink and no `..` (``SystemCalls/openBeneath(_:_:flags:mode:display:)``:
/// `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)`, or `O_NOFOLLOW` on every component). So a
/// directory swapped for a symlink to `/etc` while a capture runs cannot make the plugin read
/// `/etc/shadow`: the open fails, and the file is reported as gone.
///
/// ```swift
/// let root = try RootDirectory(path: workspace)
/// if let file = try root.openFile(Array("src/main.c".utf8)) { … host.putFile(file, …) }
/// ```
public final class RootDirectory: @unchecked Sendable {
    // @unchecked: the descriptor is immutable and the calls made on it are thread-safe.
    /// The path the user gave.
    public let path: String
    /// The open directory.
    public let fd: Int32
    static let system = SystemCalls()

    /// Opens the directory at `path`; `setting` names the configuration key for messages.
    public init(path: String, setting: String) throws(PluginError) {
        do {
            fd = try Self.system.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
        } catch {
            switch error.code {
            case ENOENT: throw .io("\(path): no such directory (\(setting))")
            case ENOTDIR where ((try? Self.system.linkStatus(path)) ?? nil).map({ $0.st_mode & S_IFMT == S_IFLNK }) == true: fallthrough
            case ELOOP: throw .invalid("\(path) is a symlink: pfhost does not follow a symlink at \(setting) (an agent could point it anywhere); set the path of the directory itself")
            case ENOTDIR: throw .invalid("\(path): \(setting) is not a directory")
            default: throw .io("\(path): cannot be opened: \(error.reason)")
            }
        }
        self.path = path
    }

    deinit { close(fd) }

    /// `relative` as it is shown in messages: `root/relative`, bytes that are not UTF-8 replaced.
    public func display(_ relative: [UInt8]) -> String {
        path + "/" + String(decoding: relative, as: UTF8.self)
    }

    /// Opens the regular file at `relative` beneath the root for reading, or returns nil when it is
    /// no longer there as a regular file reachable without symlinks (removed, renamed, replaced by
    /// something else, or a directory on the way replaced by a symlink since it was listed). It is
    /// opened `O_NONBLOCK`, so a FIFO swapped in cannot block the open.
    ///
    /// - Throws: ``PluginError`` for other failures (permissions, I/O).
    public func openFile(_ relative: [UInt8]) throws(PluginError) -> ReadableFile? {
        let fd: Int32
        do {
            fd = try Self.system.openBeneath(self.fd, relative, flags: O_RDONLY | O_NONBLOCK | O_NOCTTY, display: display(relative))
        } catch {
            if Self.gone.contains(error.code) { return nil }
            throw .io("\(display(relative)): cannot be read: \(error.reason)")
        }
        // Something else (a FIFO, a device, a directory) put there since it was listed is gone as a file.
        return try? ReadableFile(adopting: fd, path: display(relative))
    }

    /// Opens the directory at `relative` beneath the root, or nil when it is gone (as ``openFile(_:)``).
    public func openDirectory(_ relative: [UInt8]) throws(PluginError) -> RootDirectory? {
        let fd: Int32
        do {
            fd = try Self.system.openBeneath(self.fd, relative, flags: O_RDONLY | O_DIRECTORY, display: display(relative))
        } catch {
            if Self.gone.contains(error.code) { return nil }
            throw .io("\(display(relative)): cannot be opened: \(error.reason)")
        }
        return RootDirectory(adopting: fd, path: display(relative))
    }

    private init(adopting fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    /// The entries directly in the root, sorted by their bytes, with what `lstat` says of each
    /// (symlinks are reported as symlinks, never followed). Entries removed while listing are left out.
    public func entries() throws(PluginError) -> [(name: [UInt8], status: stat)] {
        let names: [[UInt8]]
        do { names = try Self.system.names(inDirectory: fd, path: path) } catch {
            throw .io("\(path): cannot be listed: \(error.reason)")
        }
        var entries: [(name: [UInt8], status: stat)] = []
        for name in names.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let info: stat?
            do { info = try name.withCString { (cName) throws(SystemCallError) in try Self.system.linkStatus(at: fd, cName, display: display(name)) } } catch {
                throw .io("\(display(name)): \(error.reason)")
            }
            if let info { entries.append((name, info)) }
        }
        return entries
    }

    /// The errnos that mean "not there any more as something we may open": removed (`ENOENT`), or a
    /// component on the way replaced by a symlink or a file (`ELOOP`, `EXDEV`, `ENOTDIR`).
    public static let gone: Set<Int32> = [ENOENT, ENOTDIR, ELOOP, EXDEV]
}
