import PFModel
import PFSystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads one blob as a stream, checking at the end that the bytes match the blob's digest.
///
/// ```swift
/// let reader = try store.openBlob(digest)
/// while let chunk = try reader.read(upTo: 1 << 20) { consume(chunk) }   // throws if damaged
/// ```
///
/// Use a reader from one thread at a time; it closes its file when released.
public final class BlobReader {
    /// The blob being read.
    public let digest: Digest
    /// Its size in bytes, from the file system.
    public let size: Int64
    private let store: SnapshotStore
    private let path: String
    private let fd: Int32
    private let hasher = SHA256Hasher()
    private var finished = false

    init(store: SnapshotStore, digest: Digest) throws(StoreError) {
        self.store = store
        self.digest = digest
        path = store.blobPath(digest)
        let path = self.path
        do {
            fd = try store.system.open(path, SnapshotStore.blobOpenFlags)
        } catch where error.code == ENOENT {
            throw .missingBlob(digest, store: store.path)
        } catch where error.code == ELOOP {
            throw .corrupt(file: path, reason: SnapshotStore.notRegularReason)
        } catch {
            throw .io(step: "opening blob \(digest)", error)
        }
        let fd = self.fd
        let info: stat
        do {
            info = try store.system.status(fd, path: path)
        } catch {
            try? store.system.close(fd, path: path)
            throw .io(step: "opening blob \(digest)", error)
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            try? store.system.close(fd, path: path)
            throw .corrupt(file: path, reason: SnapshotStore.notRegularReason)
        }
        size = Int64(info.st_size)
    }

    deinit { try? store.system.close(fd, path: path) }

    /// The next bytes, at most `count`; nil at the end, once the content has been checked.
    ///
    /// - Throws: ``StoreError/corrupt(file:reason:)`` at the end when the bytes do not hash to
    ///   the blob's digest, so a reader never silently returns damaged content in full.
    public func read(upTo count: Int) throws(StoreError) -> [UInt8]? {
        guard !finished else { return nil }
        var buffer = [UInt8](repeating: 0, count: max(1, count))
        let (fd, path, system) = (fd, path, store.system)
        let n = try store.step("reading blob \(digest)") { () throws(SystemCallError) in
            try withBytes(&buffer) { (raw) throws(SystemCallError) in try system.read(fd, into: raw.baseAddress!, count: raw.count, path: path) }
        }
        if n == 0 {
            finished = true
            guard hasher.finalize() == digest else {
                throw .corrupt(file: path, reason: "its content does not match its digest")
            }
            return nil
        }
        buffer.removeSubrange(n...)
        hasher.update(buffer)
        return buffer
    }
}

extension SnapshotStore {
    /// Opens a blob for streaming reads, verified against its digest as it is read.
    public func openBlob(_ digest: Digest) throws(StoreError) -> BlobReader {
        try BlobReader(store: self, digest: digest)
    }
}
