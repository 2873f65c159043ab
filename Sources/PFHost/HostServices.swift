import CPFPluginABI
import Logging
import PFModel
import PFStore
import Synchronization

/// The `pf_host` table handed to plugins: C entry points that find their ``CaptureContext``
/// through the `pf_ctx *` and do the work there. Every function is thread-safe.
///
/// The pointers a plugin holds are handles, checked against ``HostHandles`` on every call: a call
/// through a `pf_ctx *` whose capture has returned, a `pf_blob_writer *` already committed or
/// aborted, or a pointer the host never handed out, returns `PF_ERR_INVALID` (NULL, or nothing,
/// for the functions that return a pointer or nothing; `cancelled` returns `PF_ERR_INVALID`, which
/// is non-zero: stop) and logs a warning naming the plugin when it is known. Nothing is ever
/// dereferenced through such a pointer. The table itself is allocated once and never freed, so a
/// thread a plugin left running can still read it.
enum HostServices {
    /// The one table, for every capture of the process.
    nonisolated(unsafe) static let table: UnsafePointer<pf_host> = UnsafePointer(makeTable())

    private static func makeTable() -> UnsafeMutablePointer<pf_host> {
        let table = UnsafeMutablePointer<pf_host>.allocate(capacity: 1)
        table.initialize(to: pf_host(
            struct_size: UInt32(MemoryLayout<pf_host>.size),
            abi_major: PluginABI.major,
            abi_minor: PluginABI.minor,
            reserved: 0,
            config: { handle, key in
                guard let context = context(handle, "config"), let key else { return nil }
                return context.config(String(cString: key))
            },
            put_blob: { handle, mediaType, data, length, digestOut in
                // A size_t beyond Int.max (a -1 passed on from a failed read) is no length.
                guard let context = context(handle, "put_blob"), mediaType != nil, digestOut != nil,
                      length >= 0, data != nil || length == 0 else { return Int32(PF_ERR_INVALID) }
                return context.storing("put_blob", { () throws(StoreError) in
                    try context.store.putBlob(UnsafeRawBufferPointer(start: data, count: length))
                }, into: digestOut)
            },
            put_file: { handle, path, mediaType, digestOut, sizeOut in
                guard let context = context(handle, "put_file"), let path, mediaType != nil, digestOut != nil else {
                    return Int32(PF_ERR_INVALID)
                }
                let file = String(cString: path)
                return context.storing("put_file", { () throws(StoreError) in try context.store.putFile(at: file) },
                                       into: digestOut, size: sizeOut)
            },
            blob_open: { handle, mediaType, writerOut in
                guard let context = context(handle, "blob_open"), mediaType != nil, let writerOut else {
                    return Int32(PF_ERR_INVALID)
                }
                guard !context.isCancelled else { return Int32(PF_ERR_CANCELLED) }
                switch context.openWriter() {
                case .success(let writer)?:
                    writerOut.pointee = writer
                    return Int32(PF_OK)
                case .failure(let error)?:
                    context.recordStoreError("blob_open: \(error)")
                    return Int32(PF_ERR_IO)
                case nil:
                    // The capture returned while this call was on its way.
                    return Int32(PF_ERR_INVALID)
                }
            },
            blob_write: { handle, data, length in
                guard let box = writer(handle, "blob_write"), length >= 0, data != nil || length == 0 else {
                    return Int32(PF_ERR_INVALID)
                }
                guard !box.context.isCancelled else { return Int32(PF_ERR_CANCELLED) }
                switch box.write(UnsafeRawBufferPointer(start: data, count: length)) {
                case .success?: return Int32(PF_OK)
                case .failure(let error)?:
                    box.context.recordStoreError("blob_write: \(error)")
                    return Int32(PF_ERR_IO)
                case nil: return Int32(PF_ERR_INVALID)
                }
            },
            blob_commit: { handle, digestOut in
                // The writer is released whatever happens.
                guard let handle, let box = retireWriter(handle, "blob_commit") else { return Int32(PF_ERR_INVALID) }
                box.context.closeWriter(handle)
                guard !box.context.isCancelled else {
                    box.abort()
                    return Int32(PF_ERR_CANCELLED)
                }
                // nil: the host aborted it as the capture returned, just now.
                guard let result = box.commit() else { return Int32(PF_ERR_INVALID) }
                return box.context.storing("blob_commit", { () throws(StoreError) in try result.get() }, into: digestOut, counted: true)
            },
            blob_abort: { handle in
                guard let handle, let box = retireWriter(handle, "blob_abort") else { return }
                box.context.closeWriter(handle)
                box.abort()
            },
            parent_layer: { handle, lengthOut in
                guard let context = context(handle, "parent_layer") else {
                    lengthOut?.pointee = 0
                    return nil
                }
                return context.parent(length: lengthOut)
            },
            set_layer: { handle, json, length in
                guard let context = context(handle, "set_layer"), let json, length >= 0 else { return Int32(PF_ERR_INVALID) }
                guard length <= CaptureContext.maximumLayerBytes else { return context.refuseLayer(length: length) }
                let bytes = Array(UnsafeRawBufferPointer(start: json, count: length))
                return context.setLayer(bytes)
            },
            set_error: { handle, message in
                guard let context = context(handle, "set_error"), let message else { return }
                context.setError(String(cString: message))
            },
            log: { handle, level, message in
                guard let context = context(handle, "log"), let message else { return }
                context.log(level: level, String(cString: message))
            },
            progress: { handle, done, total in
                context(handle, "progress")?.progress(done: done, total: total)
            },
            cancelled: { handle in
                guard let context = context(handle, "cancelled") else { return Int32(PF_ERR_INVALID) }
                return context.isCancelled ? 1 : 0
            },
            put_fd: { handle, fd, size, mediaType, digestOut, sizeOut, flagsOut in
                putDescriptor("put_fd", handle, fd, offset: nil, size, mediaType, digestOut, sizeOut, flagsOut)
            },
            open_blob: RestoreServices.openBlob,
            make_directory: RestoreServices.makeDirectory,
            create_file: RestoreServices.createFile,
            make_symlink: RestoreServices.makeSymlink,
            set_attributes: RestoreServices.setAttributes,
            set_restored_config: RestoreServices.setRestoredConfig,
            report: RestoreServices.report,
            put_fd_range: { handle, fd, offset, size, mediaType, digestOut, sizeOut, flagsOut in
                putDescriptor("put_fd_range", handle, fd, offset: offset, size, mediaType, digestOut, sizeOut, flagsOut)
            }
        ))
        return table
    }
}

// File-level: a C function pointer cannot capture, so the table's closures call these.

/// The context behind a `pf_ctx *`, or nil (with a warning) for a stale or unknown one.
/// `put_fd` (`offset` nil: the whole file, which has changed when it is not `size` long) and
/// `put_fd_range` (a range, which has changed only when the file ends inside it): arguments checked
/// (an end past `INT64_MAX` is `PF_ERR_INVALID`), the read stopped when the capture is cancelled.
private func putDescriptor(_ function: String, _ handle: OpaquePointer?, _ fd: Int32, offset: UInt64?, _ size: UInt64,
                           _ mediaType: UnsafePointer<CChar>?, _ digestOut: UnsafeMutablePointer<CChar>?,
                           _ sizeOut: UnsafeMutablePointer<UInt64>?, _ flagsOut: UnsafeMutablePointer<UInt32>?) -> Int32 {
    let start = offset ?? 0
    guard let context = context(handle, function), fd >= 0, mediaType != nil, digestOut != nil, sizeOut != nil,
          start <= UInt64(Int64.max), size == PF_SIZE_FSTAT || size <= UInt64(Int64.max) - start else {
        return Int32(PF_ERR_INVALID)
    }
    let limit = size == PF_SIZE_FSTAT ? nil : Int64(size)
    var changed = false
    let code = context.storing(function, { () throws(StoreError) in
        let stop = { context.isCancelled }
        let stored = if let offset {
            try context.store.putFile(descriptor: fd, offset: Int64(offset), size: limit, display: "descriptor \(fd) from offset \(offset)", stop: stop)
        } else {
            try context.store.putFile(descriptor: fd, size: limit, display: "descriptor \(fd)", stop: stop)
        }
        changed = stored.changed
        return stored.blob
    }, into: digestOut, size: sizeOut)
    flagsOut?.pointee = code == Int32(PF_OK) && changed ? UInt32(PF_PUT_CHANGED) : 0
    return code
}

private func context(_ handle: OpaquePointer?, _ function: String) -> CaptureContext? {
    switch HostHandles.contexts.lookup(handle) {
    case .live(let context):
        return context
    case .retired(let owner, let logger, let firstTime):
        if firstTime {
            logger.warning("plugin \(owner) called \(function)() with its pf_ctx after its capture had returned (from a thread it left running?); refused with PF_ERR_INVALID, as every later call through it will be")
        }
        return nil
    case .unknown:
        warnUnknown(handle, kind: "pf_ctx", function)
        return nil
    }
}

/// The writer behind a `pf_blob_writer *`, or nil (with a warning) for a stale or unknown one.
private func writer(_ handle: OpaquePointer?, _ function: String) -> BlobWriterBox? {
    switch HostHandles.writers.lookup(handle) {
    case .live(let box):
        return box
    case .retired(let owner, let logger, let firstTime):
        if firstTime {
            logger.warning("plugin \(owner) called \(function)() with a pf_blob_writer already committed or aborted (or aborted when its capture returned); refused")
        }
        return nil
    case .unknown:
        warnUnknown(handle, kind: "pf_blob_writer", function)
        return nil
    }
}

/// Ends the writer behind `handle` for `blob_commit` and `blob_abort`: only one caller gets it.
private func retireWriter(_ handle: OpaquePointer, _ function: String) -> BlobWriterBox? {
    guard let box = writer(handle, function) else { return nil }
    return HostHandles.writers.retire(handle, owner: box.context.plugin.label, logger: box.context.logger)
}

/// How many warnings about unknown handles have been logged; after ``unknownWarningLimit`` they stop.
private let unknownWarnings = Atomic<Int>(0)
private let unknownWarningLimit = 10

private func warnUnknown(_ handle: OpaquePointer?, kind: String, _ function: String) {
    guard let handle else { return }
    let count = unknownWarnings.add(1, ordering: .relaxed).newValue
    guard count <= unknownWarningLimit else { return }
    let address = "0x" + String(UInt(bitPattern: handle), radix: 16)
    let more = count == unknownWarningLimit ? " (further such warnings are not shown)" : ""
    Logger(label: "pfhost").warning("a plugin called \(function)() with \(address), which is not a \(kind) the host handed out (or one long since retired); refused\(more)")
}
