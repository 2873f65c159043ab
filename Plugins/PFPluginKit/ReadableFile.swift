#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A regular file open for reading through POSIX calls, its errors naming the path.
///
/// Closed when released. Not for use from two threads at once.
public final class ReadableFile {
    /// The path it was opened with.
    public let path: String
    private let fd: Int32

    /// Opens `path`, refusing a missing file ("no such file") and anything but a regular file.
    public init(path: String) throws(PluginError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw .io(errno == ENOENT ? "\(path): no such file" : "\(path): cannot be read: \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw .io("\(path): cannot be read as a file")
        }
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    /// Reads up to `buffer.count` bytes (fewer only at the end of the file); 0 at the end.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(PluginError) -> Int {
        var done = 0
        while done < buffer.count {
            let n = readSome(fd, buffer.baseAddress! + done, buffer.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw .io("\(path): read failed: \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            done += n
        }
        return done
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

    /// The size of the regular file at `path` (symlinks followed), or nil.
    public static func size(of path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        return Int64(info.st_size)
    }

    /// The whole file, for files known to be small (configuration, `/proc` entries).
    public static func contents(of path: String) throws(PluginError) -> [UInt8] {
        let file = try ReadableFile(path: path)
        var contents: [UInt8] = []
        while true {
            let chunk = try file.read(upTo: 64 << 10)
            if chunk.isEmpty { return contents }
            contents += chunk
        }
    }
}

/// `read(2)`, named apart from ``ReadableFile/read(into:)``.
private func readSome(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}
