import PFModel
import PFSystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension SnapshotStore {
    /// Stores `bytes` as a blob. An identical blob already in the store is not written again.
    public func putBlob(_ bytes: [UInt8]) throws(StoreError) -> BlobRef {
        try withBytes(bytes) { (raw) throws(StoreError) in try putBlob(raw) }
    }

    /// Stores the bytes in `buffer` as a blob. An identical blob already there is not rewritten.
    public func putBlob(_ buffer: UnsafeRawBufferPointer) throws(StoreError) -> BlobRef {
        try acquireLease()
        let hasher = SHA256Hasher()
        hasher.update(buffer)
        let blob = BlobRef(digest: hasher.finalize(), size: Int64(buffer.count))
        if try contains(blob) { return blob }
        let writer = try makeWriter()
        try writer.write(buffer)
        return try writer.commit()
    }

    /// Stores the regular file at `path` as a blob, streaming it: memory use does not depend
    /// on the file's size (four 1 MiB buffers), and each byte is read once, hashed on this thread
    /// while another writes it into the store. The path is opened as given (symlinks followed):
    /// callers that must not leave a directory open the file themselves and use
    /// ``putFile(descriptor:size:display:)``.
    ///
    /// A file the store has ingested before and whose stat data (device, inode, size, mtime,
    /// ctime) are unchanged costs one `fstat`: see ``StatCache`` for why that is safe.
    public func putFile(at path: String) throws(StoreError) -> BlobRef {
        let fd = try step("opening \(path)") { () throws(SystemCallError) in
            try system.open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY)
        }
        defer { try? system.close(fd, path: path) }
        return try ingest(fd, size: nil, cacheKey: path, display: path).blob
    }

    /// Stores the open regular file `fd` as a blob: exactly `size` bytes from its start (the size
    /// `fstat` gives when nil), or fewer if it ends first. The descriptor is read with `pread`,
    /// neither moved nor closed. `display` is the name errors give it.
    ///
    /// - Returns: the blob, and whether the file changed while it was read (it ended before
    ///   `size`; its size, mtime or ctime moved during the read; or `size` is not its size), in
    ///   which case the blob holds the prefix that was read.
    ///
    /// `stop` is asked between buffers: when it says yes, the read ends with `ECANCELED` and nothing
    /// is stored (a capture the host cancelled must not finish reading a 4 GB file first).
    public func putFile(descriptor fd: Int32, size: Int64?, display: String,
                        stop: () -> Bool = { false }) throws(StoreError) -> (blob: BlobRef, changed: Bool) {
        try ingest(fd, size: size, cacheKey: nil, display: display, stop: stop)
    }

    /// Stores `size` bytes of the open regular file `fd` from `offset` (to its end, as `fstat`
    /// gives it, when nil) as a blob: one chunk of a file kept in pieces. Read with `pread`, the
    /// descriptor neither moved nor closed.
    ///
    /// - Returns: the blob, and whether the file changed while it was read (it ended before
    ///   `offset + size`, or its size, mtime or ctime moved during the read); a file longer than
    ///   `offset + size` is no change.
    public func putFile(descriptor fd: Int32, offset: Int64, size: Int64?, display: String,
                        stop: () -> Bool = { false }) throws(StoreError) -> (blob: BlobRef, changed: Bool) {
        precondition(offset >= 0 && (size ?? 0) >= 0, "negative offset or size")
        return try ingest(fd, offset: offset, size: size, cacheKey: nil, display: display, stop: stop)
    }

    /// The work of the `putFile`s: bytes from `offset`, `size` of them (to the end when nil). A
    /// whole file (offset 0, no size) that is shorter or longer than `size` has changed; a range
    /// has changed only when the file ends inside it. The stat cache is keyed by `cacheKey`, or
    /// by device and inode (and the range, for a range).
    private func ingest(_ fd: Int32, offset: Int64? = nil, size: Int64?, cacheKey: String?, display: String,
                        stop: () -> Bool = { false }) throws(StoreError) -> (blob: BlobRef, changed: Bool) {
        try acquireLease()
        let before = try step("reading \(display)") { () throws(SystemCallError) in try system.status(fd, path: display) }
        guard before.st_mode & S_IFMT == S_IFREG else { throw .notRegularFile(display) }
        let statedSize = Int64(before.st_size)
        let start = offset ?? 0
        let wanted = size ?? max(0, statedSize - start)
        // Checked: offset and size come from a plugin. The end must fit a file offset.
        let (end, overflow) = start.addingReportingOverflow(wanted)
        guard !overflow else {
            throw .io(step: "reading \(display)", SystemCallError(operation: "pread", path: display, code: EOVERFLOW))
        }
        // What the file must hold for the read to be whole.
        let expected = offset == nil ? statedSize == wanted : statedSize >= end
        var key = cacheKey ?? "@\(before.st_dev):\(before.st_ino)"
        if offset != nil { key += "+\(start):\(wanted)" }
        if expected, let digest = statCache.digest(for: key, info: before) {
            let blob = BlobRef(digest: digest, size: wanted)
            if try contains(blob) { return (blob, false) }
            statCache.forget(key)
        }
        let writer = try makeWriter()
        try writer.copy(from: fd, at: start, limit: wanted, path: display, stop: stop)
        let blob = try writer.commit()
        let after = try? system.status(fd, path: display)
        let unchanged = after.map { StatCache.same($0, before) } ?? false
        let changed = blob.size != wanted || !expected || !unchanged
        if !changed, let after {
            statCache.remember(key, before: before, after: after, digest: blob.digest)
        }
        return (blob, changed)
    }

    /// A writer for a blob whose bytes arrive piece by piece.
    public func makeWriter() throws(StoreError) -> BlobWriter {
        try acquireLease()
        return try BlobWriter(store: self)
    }

    /// Whether the blob is in the store (or waiting for this process's flush phase).
    public func has(_ digest: Digest) -> Bool {
        (try? size(of: digest)) != nil
    }

    /// The size of the blob named `digest`, or nil when the store does not have it.
    public func size(of digest: Digest) throws(StoreError) -> Int64? {
        if let waiting = pending.withLock({ $0[digest] }) { return waiting.size }
        if let known = present.withLock({ $0[digest] }) { return known }
        let path = blobPath(digest)
        // lstat: a symlink (or anything but a regular file) under a blob's name is not the blob,
        // whatever it points to; the blob gets written again, replacing it.
        guard let info = try step("checking \(path)", { () throws(SystemCallError) in try system.linkStatus(path) }),
              info.st_mode & S_IFMT == S_IFREG else {
            return nil
        }
        let size = Int64(info.st_size)
        present.withLock { $0[digest] = size }
        return size
    }

    /// Whether `blob` is in the store with its exact size. A file of another size under the
    /// blob's name is damage (say, a write cut short by a power loss in `none` mode), so it
    /// does not count: the blob gets written again.
    func contains(_ blob: BlobRef) throws(StoreError) -> Bool {
        try size(of: blob.digest) == blob.size
    }

    /// Moves a finished file from `ingest/` into `blobs/sha256/` under its digest, as the
    /// durability mode says: at once (none, strict), or at the next flush phase (batch).
    func install(_ temporaryPath: String, as blob: BlobRef) throws(StoreError) {
        if durability == .batch {
            let duplicate = try contains(blob) || pending.withLock { waiting in
                if waiting[blob.digest] != nil { return true }
                waiting[blob.digest] = PendingBlob(ingestPath: temporaryPath, size: blob.size)
                return false
            }
            if duplicate { try? system.unlink(temporaryPath) }
            return
        }
        try step("installing blob \(blob.digest)") { () throws(SystemCallError) in
            try moveIntoPlace(temporaryPath, blob)
            if durability == .strict { try system.fsyncDirectory(blobsPath) }
        }
    }

    /// Renames a finished blob file to `target` without replacing a good blob already there
    /// (content-addressed files are never rewritten). A file of the wrong size, or anything but a
    /// regular file (a symlink), under the name is damage, and is replaced (rename replaces the
    /// link itself, never what it points to).
    private func moveIntoPlace(_ temporaryPath: String, _ blob: BlobRef) throws(SystemCallError) {
        let target = blobPath(blob.digest)
        if try !system.renameNoReplace(temporaryPath, target) {
            let existing = try system.linkStatus(target)
            if let existing, existing.st_mode & S_IFMT == S_IFREG, Int64(existing.st_size) == blob.size {
                try? system.unlink(temporaryPath)
            } else if let existing, existing.st_mode & S_IFMT == S_IFDIR {
                // rename cannot replace a directory, and pfhost removes no tree it did not make.
                try? system.unlink(temporaryPath)
                throw SystemCallError(operation: "rename", path: target + " (a directory where a blob belongs: remove it, then run again)", code: EISDIR)
            } else {
                try system.rename(temporaryPath, target)
            }
        }
        present.withLock { $0[blob.digest] = blob.size }
    }

    /// Makes every blob this store object has written durable and visible to other processes:
    /// batch mode's flush phase (``commitSnapshot(_:tag:)`` runs it itself; the other modes
    /// install each blob as it is committed). Then saves the stat cache.
    public func flush() throws(StoreError) {
        if durability == .batch { try flushPendingBlobs() }
        statCache.save(through: (try? owner()).map { ingestPath + "/" + $0.temporaryName("stat-cache") })
    }

    /// Up to this many waiting blobs are flushed with one fsync each; more with one syncfs.
    static let fsyncEachLimit = 8

    /// Batch mode's flush phase: the waiting blobs' bytes are made durable (one fsync each for a
    /// few, one `syncfs` of the store's filesystem for many: its cost grows with all the dirty data
    /// there, so it pays only when there is much of ours), then each is renamed into
    /// `blobs/sha256/` and the directory is fsynced once. Flushes are
    /// serialised, so threads sharing this store never move the same file twice; a blob that
    /// fails to move stays waiting for the next flush.
    func flushPendingBlobs() throws(StoreError) {
        try flushing.withLock { (_) throws(StoreError) in
            let waiting = pending.withLock { $0 }
            guard !waiting.isEmpty else { return }
            if waiting.count <= Self.fsyncEachLimit {
                // A few blobs: fsync each, which flushes only their data.
                for blob in waiting.values {
                    try step("flushing \(blob.ingestPath)") { () throws(SystemCallError) in
                        let fd = try system.open(blob.ingestPath, O_RDONLY)
                        defer { try? system.close(fd, path: blob.ingestPath) }
                        try system.fsync(fd, path: blob.ingestPath)
                    }
                }
            } else {
                // Many blobs: one syncfs is one journal commit for all of them.
                try step("flushing \(waiting.count) blobs (syncfs)") { () throws(SystemCallError) in
                    let fd = try system.open(ingestPath, O_RDONLY | O_DIRECTORY)
                    defer { try? system.close(fd, path: ingestPath) }
                    try system.syncfs(fd, path: ingestPath)
                }
            }
            for (digest, blob) in waiting.sorted(by: { $0.key < $1.key }) {
                try step("installing blob \(digest)") { () throws(SystemCallError) in
                    try moveIntoPlace(blob.ingestPath, BlobRef(digest: digest, size: blob.size))
                }
                pending.withLock { _ = $0.removeValue(forKey: digest) }
            }
            try step("flushing \(blobsPath)") { () throws(SystemCallError) in try system.fsyncDirectory(blobsPath) }
        }
    }

    /// How blobs are opened for reading: never through a symlink (a link in `blobs/` could lead
    /// anywhere, `/etc/passwd` included), never blocking on a FIFO someone put there.
    static let blobOpenFlags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY

    /// What is wrong with a blob path that is a symlink, a directory or a device.
    static let notRegularReason = "it is not a regular file (a symlink, a directory or a device where a blob belongs); remove it and run the snapshot again or restore the blob"

    /// Reads a whole blob and checks that its bytes match its digest. For small blobs
    /// (manifests, indexes); stream large ones with ``hashBlob(_:)``.
    public func readBlob(_ digest: Digest) throws(StoreError) -> [UInt8] {
        let path = pending.withLock({ $0[digest]?.ingestPath }) ?? blobPath(digest)
        let bytes: [UInt8]
        do {
            let fd = try system.open(path, Self.blobOpenFlags)
            defer { try? system.close(fd, path: path) }
            bytes = try system.readFile(fd, path: path)
        } catch where error.code == ENOENT {
            throw .missingBlob(digest, store: self.path)
        } catch where error.code == ELOOP || error.code == EINVAL || error.code == EISDIR {
            throw .corrupt(file: path, reason: Self.notRegularReason)
        } catch where error.code == EFBIG {
            throw .corrupt(file: path, reason: "over 64 MiB, more than pfhost reads whole (a snapshot's documents and layers are KiB to MiB)")
        } catch {
            throw .io(step: "reading blob \(digest)", error)
        }
        guard Digest.of(bytes) == digest else {
            throw .corrupt(file: path, reason: "its content does not match its digest")
        }
        return bytes
    }

    /// Re-reads a blob and returns the digest and size of what is actually stored.
    public func hashBlob(_ digest: Digest) throws(StoreError) -> BlobRef {
        let path = blobPath(digest)
        let hasher = SHA256Hasher()
        var size: Int64 = 0
        let fd: Int32
        do throws(SystemCallError) {
            fd = try system.open(path, Self.blobOpenFlags)
            guard try system.status(fd, path: path).st_mode & S_IFMT == S_IFREG else {
                try? system.close(fd, path: path)
                throw SystemCallError(operation: "open", path: path, code: EINVAL)
            }
        } catch where error.code == ENOENT {
            throw .missingBlob(digest, store: self.path)
        } catch where error.code == ELOOP || error.code == EINVAL || error.code == EISDIR {
            throw .corrupt(file: path, reason: Self.notRegularReason)
        } catch {
            throw .io(step: "reading blob \(digest)", error)
        }
        defer { try? system.close(fd, path: path) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = try step("reading blob \(digest)") { () throws(SystemCallError) in
                try system.read(fd, into: buffer.baseAddress!, count: buffer.count, path: path)
            }
            if count == 0 { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            size += Int64(count)
        }
        return BlobRef(digest: hasher.finalize(), size: size)
    }
}
