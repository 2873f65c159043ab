import PFSystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A regular file open for reading, its errors naming the path.
///
/// Reads are bounded by the size `fstat` gave when the file was opened (``size``): a file that
/// another process keeps appending to reads as the prefix it had then, never forever. (A file
/// that reports size 0, like those in `/proc`, is read to its end.) Reads use `pread` at an offset
/// this object keeps, so the descriptor itself can be handed to the host (``PluginHost/putFile(_:size:mediaType:)``)
/// without moving anything.
///
/// Closed when released. Not for use from two threads at once.
public final class ReadableFile {
    /// The path it was opened with (or the name it is shown as).
    public let path: String
    /// The open descriptor, for the host's `put_fd`. Owned by this object.
    public let fd: Int32
    /// What `fstat` said when it was opened.
    public let status: stat
    private var offset: Int64 = 0
    static let system = SystemCalls()

    /// Opens `path`, refusing a missing file ("no such file"), a symlink (the last component is
    /// opened `O_NOFOLLOW`: a file the agent controls could otherwise be replaced by a link to
    /// anything pfhost, often root, can read) and anything but a regular file. Opened `O_NONBLOCK`,
    /// so a FIFO cannot block it.
    public convenience init(path: String) throws(PluginError) {
        let fd: Int32
        do { fd = try Self.system.open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW) } catch {
            throw .io(Self.describe(error, path))
        }
        try self.init(adopting: fd, path: path)
    }

    /// Takes ownership of `fd`, which must be a regular file (closed and refused otherwise).
    init(adopting fd: Int32, path: String) throws(PluginError) {
        guard let info = try? Self.system.status(fd, path: path), info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw .io("\(path): cannot be read as a file")
        }
        self.fd = fd
        self.path = path
        status = info
    }

    deinit { close(fd) }

    /// The size when it was opened: reads end there.
    public var size: Int64 { Int64(status.st_size) }

    /// Reads up to `buffer.count` bytes (fewer only at the end of the file); 0 at the end.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(PluginError) -> Int {
        let bounded = size > 0 ? UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Int(clamping: min(Int64(buffer.count), max(0, size - offset)))]) : buffer
        guard bounded.count > 0 else { return 0 }
        do {
            let done = try Self.system.readFully(fd, into: bounded, at: offset, path: path)
            offset += Int64(done)
            return done
        } catch {
            throw .io("\(path): read failed: \(error.reason)")
        }
    }

    /// The next bytes, at most `count` (fewer only at the end of the file; none at the end).
    public func read(upTo count: Int) throws(PluginError) -> [UInt8] {
        // Not zeroed first: only the bytes read become part of the array.
        var failure: PluginError?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            do throws(PluginError) {
                initialized = try read(into: UnsafeMutableRawBufferPointer(buffer))
            } catch {
                failure = error
                initialized = 0
            }
        }
        if let failure { throw failure }
        return bytes
    }

    /// Fills `buffer` from `offset` on (`pread`: the position ``read(into:)`` keeps does not move),
    /// stopping early only at the size the file had when opened; returns the bytes read.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(PluginError) -> Int {
        let available = size > 0 ? max(0, size - offset) : Int64(buffer.count)
        let bounded = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Int(clamping: min(Int64(buffer.count), available))])
        guard bounded.count > 0 else { return 0 }
        do { return try Self.system.readFully(fd, into: bounded, at: offset, path: path) } catch {
            throw .io("\(path): read at offset \(offset) failed: \(error.reason)")
        }
    }

    /// What `fstat` says of the file now (nil when it cannot be asked).
    public var currentStatus: stat? { try? Self.system.status(fd, path: path) }

    /// Whether the file's size, mtime or ctime now differ from what they were when it was opened.
    public var changedSinceOpened: Bool {
        guard let now = currentStatus else { return true }
        return now.st_size != status.st_size || now.st_mtim.tv_sec != status.st_mtim.tv_sec
            || now.st_mtim.tv_nsec != status.st_mtim.tv_nsec || now.st_ctim.tv_sec != status.st_ctim.tv_sec
            || now.st_ctim.tv_nsec != status.st_ctim.tv_nsec
    }

    /// The size of the regular file at `path` (not a symlink), or nil.
    public static func size(of path: String) -> Int64? {
        guard let info = try? system.linkStatus(path), info.st_mode & S_IFMT == S_IFREG else { return nil }
        return Int64(info.st_size)
    }

    /// The whole file, for files known to be small (configuration, `/proc` entries): at most
    /// `limit` bytes, an error naming the file past that.
    public static func contents(of path: String, limit: Int = 64 << 20) throws(PluginError) -> [UInt8] {
        do { return try system.readFile(path, limit: limit, followSymlinks: false) } catch {
            if error.code == EFBIG { throw .io("\(path): larger than \(limit) bytes") }
            throw .io(describe(error, path))
        }
    }

    /// What an open or read failure of `path` means, in words.
    static func describe(_ error: SystemCallError, _ path: String) -> String {
        switch error.code {
        case ENOENT: "\(path): no such file"
        case ELOOP: "\(path) is a symlink: pfhost does not follow a symlink at a file it reads (it could lead anywhere); set the path of the file itself"
        case EINVAL, EISDIR: "\(path): cannot be read as a file (not a regular file)"
        default: "\(path): cannot be read: \(error.reason)"
        }
    }
}
