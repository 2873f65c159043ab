import PFStore
import Synchronization

/// What stands behind one `pf_blob_writer *`: a store writer and the capture it belongs to.
///
/// The ABI lets only one thread use a writer at a time, but a thread the plugin left running can
/// still call while the host aborts the writers of a capture that returned; the lock makes those
/// two take turns, and once the writer is committed or aborted every call finds it gone.
final class BlobWriterBox: Sendable {
    let context: CaptureContext
    private let lock = Mutex(())
    /// nil once committed or aborted. Only touched under `lock`.
    nonisolated(unsafe) private var writer: BlobWriter?

    init(writer: BlobWriter, context: CaptureContext) {
        self.writer = writer
        self.context = context
    }

    /// Appends `buffer`; nil when the writer was already committed or aborted.
    func write(_ buffer: UnsafeRawBufferPointer) -> Result<Void, StoreError>? {
        lock.withLock { _ -> Result<Void, StoreError>? in
            guard let writer else { return nil }
            let result = Result { () throws(StoreError) in try writer.write(buffer) }
            if case .success = result { context.onBytes?(context.plugin.kind, UInt64(buffer.count)) }
            return result
        }
    }

    /// Finishes the blob; nil when the writer was already committed or aborted.
    func commit() -> Result<BlobRef, StoreError>? {
        lock.withLock { _ -> Result<BlobRef, StoreError>? in
            guard let current = writer else { return nil }
            writer = nil
            return Result { () throws(StoreError) in try current.commit() }
        }
    }

    /// Discards the blob, unless it was already committed or aborted.
    func abort() {
        lock.withLock { _ in
            writer?.abort()
            writer = nil
        }
    }
}
