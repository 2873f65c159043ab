import PFSystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file a restore created (``RestoreHost/createFile(_:mode:)``), open for writing, its errors
/// naming it. Writes go at an offset this object keeps (`pwrite`), and ``copy(from:at:count:)``
/// copies from a blob in the kernel (`copy_file_range`) where it can.
///
/// Call ``close()`` when done: a write the file system deferred can fail there, and a file whose
/// close failed must not count as restored. Released unclosed, it is closed quietly.
/// Not for use from two threads at once.
public final class WritableFile {
    /// The name it is shown as in messages.
    public let path: String
    /// The open descriptor. Owned by this object.
    public let fd: Int32
    /// Bytes written so far.
    public private(set) var offset: Int64 = 0
    private var open = true
    static let system = SystemCalls()

    init(adopting fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { if open { Glibc.close(fd) } }

    /// Throws unless the file system holding this file has room for `count` more bytes: a check
    /// before writing what a snapshot claims (a hostile one may claim far more than it stores).
    public func reserve(_ count: Int64) throws(PluginError) {
        let available: Int64
        do { available = try Self.system.availableBytes(fd, path: path) } catch {
            throw .io("\(path): the free space cannot be read: \(error.reason)")
        }
        guard count <= available else {
            throw .io("\(path): \(count) bytes to write, more than the \(available) bytes free on its file system; free some space or restore elsewhere")
        }
    }

    /// Appends the bytes in `buffer`.
    public func write(_ buffer: UnsafeRawBufferPointer) throws(PluginError) {
        guard buffer.count > 0 else { return }
        do { try Self.system.write(fd, buffer, at: offset, path: path) } catch {
            throw .io("\(path): write failed: \(error.reason)")
        }
        offset += Int64(buffer.count)
    }

    /// Appends `bytes`.
    public func write(_ bytes: [UInt8]) throws(PluginError) {
        try withBytes(bytes) { (raw) throws(PluginError) in try write(raw) }
    }

    /// Appends `count` bytes of `source` from its offset `at` (by default all of it), copied by the
    /// kernel where it can (`copy_file_range`: no copy through this process, extents shared on
    /// file systems with reflinks), else through a buffer.
    ///
    /// - Throws: ``PluginError`` when the source ends first, or a read or write fails.
    public func copy(from source: ReadableFile, at start: Int64 = 0, count: Int64? = nil) throws(PluginError) {
        let wanted = count ?? (source.size - start)
        let copied: Int64
        do { copied = try Self.system.copy(from: source.fd, at: start, to: fd, at: offset, count: wanted, path: path) } catch {
            throw .io("\(path): copying from \(source.path) failed: \(error.reason)")
        }
        offset += copied
        guard copied == wanted else {
            throw .io("\(path): \(source.path) ended after \(copied) of the \(wanted) bytes from offset \(start)")
        }
    }

    /// Closes the file, reporting a failure the file system deferred to the close.
    public func close() throws(PluginError) {
        guard open else { return }
        open = false
        do { try Self.system.close(fd, path: path) } catch {
            throw .io("\(path): \(error.reason)")
        }
    }
}
