import PFModel
import PFSystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes one blob into the store as a stream, hashing as it writes.
///
/// The bytes go to a private file in `ingest/`; ``commit()`` names the blob by its digest and
/// moves it into `blobs/sha256/` as the store's durability mode says. A writer that is neither
/// committed nor aborted is aborted when released. Use a writer from one thread at a time.
///
/// ```swift
/// let writer = try store.makeWriter()
/// try writer.write(header)
/// try writer.write(body)
/// let blob = try writer.commit()
/// ```
public final class BlobWriter {
    private let store: SnapshotStore
    private let temporaryPath: String
    private var fd: Int32
    private let hasher = SHA256Hasher()
    private var size: Int64 = 0
    private var finished = false
    /// Set by a failed write: the file no longer holds what was hashed, so it must never be
    /// committed.
    private var failed = false
    /// Once a blob grows past ``pipelineThreshold``, its writes go through a pipeline: this thread
    /// copies and hashes each piece while a second one writes the previous (a 100 MiB message
    /// costs about what hashing it does, not hashing plus writing).
    private var pipeline: WritePipeline?
    static let pipelineThreshold: Int64 = 4 << 20

    init(store: SnapshotStore) throws(StoreError) {
        self.store = store
        temporaryPath = store.ingestPath + "/" + (try store.owner()).temporaryName("blob")
        let path = temporaryPath
        fd = try store.step("creating a blob in \(store.ingestPath)") { () throws(SystemCallError) in
            try store.system.open(path, O_WRONLY | O_CREAT | O_EXCL, mode: 0o444)
        }
    }

    deinit {
        if !finished { abort() }
    }

    /// The bytes written so far.
    public var bytesWritten: Int64 { size }

    /// Appends `buffer` to the blob.
    public func write(_ buffer: UnsafeRawBufferPointer) throws(StoreError) {
        precondition(!finished, "BlobWriter used after commit or abort")
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        guard !failed else { throw Self.refusal(temporaryPath) }
        let (fd, path, system) = (fd, temporaryPath, store.system)
        guard pipeline != nil || size + Int64(buffer.count) > Self.pipelineThreshold else {
            do {
                try store.step("writing a blob to \(path)") { () throws(SystemCallError) in
                    try system.write(fd, base, count: buffer.count, path: path)
                }
            } catch {
                failed = true
                throw error
            }
            hasher.update(buffer)
            size += Int64(buffer.count)
            return
        }
        let pipeline = self.pipeline ?? WritePipeline(fd: fd, path: path, system: system)
        self.pipeline = pipeline
        var offset = 0
        while offset < buffer.count {
            guard !pipeline.hasFailed else {
                failed = true
                throw Self.refusal(path)
            }
            let index = pipeline.acquire()
            let piece = pipeline.buffers[index]
            let count = min(piece.count, buffer.count - offset)
            piece.baseAddress!.copyMemory(from: base + offset, byteCount: count)
            // The bytes hashed are the bytes the writer thread writes: the same buffer, in order.
            hasher.update(UnsafeRawBufferPointer(rebasing: piece[0..<count]))
            pipeline.submit(index, count: count)
            offset += count
            size += Int64(count)
        }
    }

    /// Waits for the pipeline's writes, if there is one; a failed write fails the blob.
    private func drainPipeline() throws(StoreError) {
        guard let pipeline else { return }
        self.pipeline = nil
        do { try pipeline.finish() } catch {
            failed = true
            throw .io(step: "writing a blob to \(temporaryPath)", error)
        }
    }

    /// Copies the open file `source` from offset `start` into the blob, at most `limit` bytes (all
    /// the rest when nil), with `pread` (the descriptor's offset is not moved): hashing on this thread
    /// while a second thread writes, so both cores work and each byte is read once.
    ///
    /// `stop` is asked before each buffer: when it says yes, the copy ends with `ECANCELED`.
    func copy(from source: Int32, at start: Int64 = 0, limit: Int64?, path sourcePath: String,
              stop: () -> Bool = { false }) throws(StoreError) {
        precondition(!finished, "BlobWriter used after commit or abort")
        try drainPipeline()
        let system = store.system
        let pipeline = WritePipeline(fd: fd, path: temporaryPath, system: system)
        var readFailure: StoreError?
        var offset = start
        while !pipeline.hasFailed {
            let wanted = limit.map { Int(clamping: $0 - (offset - start)) } ?? Int.max
            if wanted == 0 { break }
            if stop() {
                readFailure = .io(step: "reading \(sourcePath)", SystemCallError(operation: "read", path: sourcePath, code: ECANCELED))
                break
            }
            let index = pipeline.acquire()
            let buffer = pipeline.buffers[index]
            let count: Int
            do {
                count = try system.read(source, into: buffer.baseAddress!, count: min(buffer.count, wanted), at: offset, path: sourcePath)
            } catch {
                pipeline.release(index)
                readFailure = .io(step: "reading \(sourcePath)", error)
                break
            }
            if count == 0 {
                pipeline.release(index)
                break
            }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            size += Int64(count)
            offset += Int64(count)
            pipeline.submit(index, count: count)
        }
        do { try pipeline.finish() } catch {
            failed = true
            throw .io(step: "writing a blob to \(temporaryPath)", error)
        }
        if let readFailure {
            failed = true
            throw readFailure
        }
    }

    /// Appends `bytes` to the blob.
    public func write(_ bytes: [UInt8]) throws(StoreError) {
        try withBytes(bytes) { (raw) throws(StoreError) in try write(raw) }
    }

    /// Finishes the blob and installs it in the store under its digest. An identical blob
    /// already there is kept and this copy discarded.
    ///
    /// - Throws: ``StoreError/io(step:_:)`` when any write to this blob failed before (the blob is
    ///   discarded: its file does not hold the bytes that were hashed), or when installing fails.
    public func commit() throws(StoreError) -> BlobRef {
        try commit(expecting: nil)
    }

    /// Finishes the blob and installs it only when its bytes are `expected` (digest and size):
    /// for bytes from elsewhere (a registry), whose name is a claim to check before the rename.
    ///
    /// - Throws: ``StoreError/corrupt(file:reason:)`` naming both digests when the bytes are not
    ///   what was expected (the file is discarded, nothing is installed); else as ``commit()``.
    public func commit(expecting expected: BlobRef?) throws(StoreError) -> BlobRef {
        precondition(!finished, "BlobWriter committed twice")
        if !failed { try? drainPipeline() }
        guard !failed else {
            let error = Self.refusal(temporaryPath)
            abort()
            throw error
        }
        let blob = BlobRef(digest: hasher.finalize(), size: size)
        if let expected, expected != blob {
            abort()
            throw .corrupt(file: "blob \(expected.digest)", reason: "the \(blob.size) bytes received hash to \(blob.digest), not to the \(expected.size)-byte blob expected; it was not stored")
        }
        finished = true
        let (fd, path, system, durability) = (fd, temporaryPath, store.system, store.durability)
        do {
            try store.step("flushing the blob \(blob.digest)") { () throws(SystemCallError) in
                if durability == .strict { try system.fsync(fd, path: path) }
                try system.close(fd, path: path)
            }
        } catch {
            try? system.unlink(path)
            throw error
        }
        try store.install(temporaryPath, as: blob)
        return blob
    }

    /// Discards the blob.
    public func abort() {
        guard fd >= 0 else { return }
        finished = true
        // The writer thread must be done with the descriptor before it is closed.
        try? drainPipeline()
        try? store.system.close(fd, path: temporaryPath)
        try? store.system.unlink(temporaryPath)
        fd = -1
    }

    private static func refusal(_ path: String) -> StoreError {
        .io(step: "committing the blob \(path)", SystemCallError(operation: "write", path: path, code: EIO))
    }

}
