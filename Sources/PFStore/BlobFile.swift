import PFModel
import PFSystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blob's file opened for reading, checked to be a regular file of the blob's size (never
/// reached through a symlink), and its identity, so that a blob hashed once can be recognised when
/// it is opened again.
///
/// ```swift
/// let file = try store.openBlobFile(blob)
/// try store.verify(file)           // hashes it: throws if the bytes are not the digest's
/// use(file.fd); close(file.fd)     // the caller owns the descriptor
/// ```
public struct BlobFile: Sendable {
    /// The blob.
    public let blob: BlobRef
    /// A read-only descriptor on it (`O_CLOEXEC`), at offset 0; the caller closes it.
    public let fd: Int32
    /// What `fstat` says of it.
    public let identity: Identity
    /// Its path in the store, for messages.
    public let path: String

    /// Device, inode, size, mtime and ctime: a file with the same identity as one that was hashed
    /// holds the same bytes (blobs are immutable, mode 0444, and any write moves the ctime, which
    /// cannot be set back).
    public struct Identity: Hashable, Sendable {
        /// `st_dev` and `st_ino`.
        public let device: UInt64
        public let inode: UInt64
        /// `st_size`.
        public let size: Int64
        /// `st_mtim` and `st_ctim` in ns since 1970.
        public let mtime: Int64
        public let ctime: Int64

        init(_ info: stat) {
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
            size = Int64(info.st_size)
            mtime = Int64(info.st_mtim.tv_sec) &* 1_000_000_000 &+ Int64(info.st_mtim.tv_nsec)
            ctime = Int64(info.st_ctim.tv_sec) &* 1_000_000_000 &+ Int64(info.st_ctim.tv_nsec)
        }
    }
}

extension BlobFile {
    /// The same open file on a descriptor of its own (`dup`, close-on-exec), for a second reader
    /// that must not depend on the first keeping its descriptor open; the caller closes it.
    ///
    /// - Throws: ``StoreError/io(step:_:)`` when no descriptor is left.
    public func duplicate() throws(StoreError) -> BlobFile {
        do {
            let copy = try SystemCalls().duplicate(fd, path: path)
            return BlobFile(blob: blob, fd: copy, identity: identity, path: path)
        } catch {
            throw .io(step: "opening blob \(blob.digest)", error)
        }
    }
}

extension SnapshotStore {
    /// Opens `blob`'s file for reading: `O_NOFOLLOW`, a regular file, exactly `blob.size` bytes.
    /// The content is not read: ``verify(_:)`` hashes it.
    ///
    /// - Throws: ``StoreError/missingBlob(_:store:)``; ``StoreError/corrupt(file:reason:)`` for a
    ///   symlink, a directory or a device under its name, or a file of another size.
    public func openBlobFile(_ blob: BlobRef) throws(StoreError) -> BlobFile {
        try openBlobFile(blob.digest, size: blob.size)
    }

    /// Opens the blob named `digest` as ``openBlobFile(_:)`` does, checking its size is `size`
    /// when given; the ``BlobFile``'s blob has the size the file has.
    func openBlobFile(_ digest: Digest, size: Int64?) throws(StoreError) -> BlobFile {
        let blob = BlobRef(digest: digest, size: size ?? 0)
        let path = blobPath(blob.digest)
        let fd: Int32
        do {
            fd = try system.open(path, Self.blobOpenFlags)
        } catch where error.code == ENOENT {
            throw .missingBlob(blob.digest, store: self.path)
        } catch where error.code == ELOOP {
            throw .corrupt(file: path, reason: Self.notRegularReason)
        } catch {
            throw .io(step: "opening blob \(blob.digest)", error)
        }
        let info: stat
        do { info = try system.status(fd, path: path) } catch {
            try? system.close(fd, path: path)
            throw .io(step: "opening blob \(blob.digest)", error)
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            try? system.close(fd, path: path)
            throw .corrupt(file: path, reason: Self.notRegularReason)
        }
        guard size == nil || Int64(info.st_size) == blob.size else {
            try? system.close(fd, path: path)
            throw .corrupt(file: path, reason: "it is \(info.st_size) bytes, the snapshot says \(blob.size) (damaged or cut short)")
        }
        return BlobFile(blob: BlobRef(digest: digest, size: Int64(info.st_size)), fd: fd, identity: BlobFile.Identity(info), path: path)
    }

    /// Hashes the open blob file (with `pread`: its offset does not move) and checks the bytes are
    /// its digest's.
    ///
    /// - Throws: ``StoreError/corrupt(file:reason:)`` naming the file when they are not.
    public func verify(_ file: BlobFile) throws(StoreError) {
        let hasher = SHA256Hasher()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        while true {
            let count = try step("reading blob \(file.blob.digest)") { () throws(SystemCallError) in
                try system.read(file.fd, into: buffer.baseAddress!, count: buffer.count, at: offset, path: file.path)
            }
            if count == 0 { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            offset += Int64(count)
        }
        guard offset == file.blob.size, hasher.finalize() == file.blob.digest else {
            throw .corrupt(file: file.path, reason: "its content does not match its digest \(file.blob.digest)")
        }
    }
}

extension SnapshotStore {
    /// Hashes open blob files side by side and checks each against its digest, as ``verify(_:)``
    /// does one: ``MultiBufferSHA256`` runs up to 16 of them through one core's SIMD lanes at once,
    /// about five times libcrypto's throughput on a CPU without SHA extensions.
    ///
    /// `next` is asked for another file whenever a lane is free, until it gives nil; `done` is
    /// called for each file as soon as its outcome is known (on this thread; the caller closes the
    /// file then). A file that cannot be read, or that shrinks or grows while it is hashed, fails
    /// alone.
    ///
    /// ```swift
    /// var files = blobs.compactMap { try? store.openBlobFile($0) }
    /// store.verify(next: { files.popLast() }) { file, outcome in
    ///     close(file.fd)
    ///     if case .failure(let error) = outcome { print(error) }
    /// }
    /// ```
    public func verify(kernel: MultiBufferSHA256.Kernel = .default, next: () -> BlobFile?,
                       done: (BlobFile, Result<Void, StoreError>) -> Void) {
        var files: [Int: BlobFile] = [:]
        var count = 0
        MultiBufferSHA256(kernel: kernel).hash(next: { () -> (id: Int, size: Int64)? in
            guard let file = next() else { return nil }
            count += 1
            files[count] = file
            return (count, file.blob.size)
        }, read: { (id, buffer, offset) throws(StoreError) -> Int in
            let file = files[id]!
            return try step("reading blob \(file.blob.digest)") { () throws(SystemCallError) in
                try system.read(file.fd, into: buffer.baseAddress!, count: buffer.count, at: offset, path: file.path)
            }
        }, sizeChanged: { id, offset in
            let file = files[id]!
            return .corrupt(file: file.path, reason: "it changed size while it was being hashed (\(offset) bytes where the snapshot says \(file.blob.size))")
        }, done: { id, result in
            let file = files.removeValue(forKey: id)!
            done(file, result.flatMap { digest in
                digest == file.blob.digest ? .success(())
                    : .failure(.corrupt(file: file.path, reason: "its content does not match its digest \(file.blob.digest)"))
            })
        })
    }
}

extension SnapshotStore {
    /// The identity the blob file of `digest` has now (`lstat`), or nil when it is not there: for
    /// checking that a file handed out earlier was not written since (its ctime would have moved).
    public func blobIdentity(_ digest: Digest) throws(StoreError) -> BlobFile.Identity? {
        let path = blobPath(digest)
        do { return try system.linkStatus(path).map(BlobFile.Identity.init) } catch {
            throw .io(step: "checking blob \(digest)", error)
        }
    }
}
