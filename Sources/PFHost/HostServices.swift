import CPFPluginABI
import PFModel
import PFStore

/// The `pf_host` table handed to plugins: C entry points that find their ``CaptureContext``
/// through the `pf_ctx *` and do the work there. Every function is thread-safe.
enum HostServices {
    /// A newly allocated table; the caller deallocates it once no capture can still use it.
    static func makeTable() -> UnsafeMutablePointer<pf_host> {
        let table = UnsafeMutablePointer<pf_host>.allocate(capacity: 1)
        table.initialize(to: pf_host(
            struct_size: UInt32(MemoryLayout<pf_host>.size),
            abi_major: PluginABI.major,
            abi_minor: PluginABI.minor,
            reserved: 0,
            config: { context, key in
                guard let context = CaptureContext.from(context), let key else { return nil }
                return context.config(String(cString: key))
            },
            put_blob: { context, mediaType, data, length, digestOut in
                guard let context = CaptureContext.from(context), mediaType != nil, digestOut != nil,
                      data != nil || length == 0 else { return Int32(PF_ERR_INVALID) }
                return context.storing("put_blob", { () throws(StoreError) in
                    try context.store.putBlob(UnsafeRawBufferPointer(start: data, count: length))
                }, into: digestOut)
            },
            put_file: { context, path, mediaType, digestOut, sizeOut in
                guard let context = CaptureContext.from(context), let path, mediaType != nil, digestOut != nil else {
                    return Int32(PF_ERR_INVALID)
                }
                let file = String(cString: path)
                return context.storing("put_file", { () throws(StoreError) in try context.store.putFile(at: file) },
                                       into: digestOut, size: sizeOut)
            },
            blob_open: { context, mediaType, writerOut in
                guard let context = CaptureContext.from(context), mediaType != nil, let writerOut else {
                    return Int32(PF_ERR_INVALID)
                }
                guard !context.isCancelled else { return Int32(PF_ERR_CANCELLED) }
                switch context.openWriter() {
                case .success(let box):
                    writerOut.pointee = OpaquePointer(Unmanaged.passRetained(box).toOpaque())
                    return Int32(PF_OK)
                case .failure(let error):
                    context.recordStoreError("blob_open: \(error)")
                    return Int32(PF_ERR_IO)
                }
            },
            blob_write: { writer, data, length in
                guard let box = writerBox(writer), data != nil || length == 0 else { return Int32(PF_ERR_INVALID) }
                guard !box.context.isCancelled else { return Int32(PF_ERR_CANCELLED) }
                do {
                    try box.writer.write(UnsafeRawBufferPointer(start: data, count: length))
                    return Int32(PF_OK)
                } catch {
                    box.context.recordStoreError("blob_write: \(error)")
                    return Int32(PF_ERR_IO)
                }
            },
            blob_commit: { writer, digestOut in
                guard let writer, let box = writerBox(writer) else { return Int32(PF_ERR_INVALID) }
                // The writer is released whatever happens.
                defer { release(writer) }
                box.context.closeWriter(box)
                guard !box.context.isCancelled else {
                    box.writer.abort()
                    return Int32(PF_ERR_CANCELLED)
                }
                return box.context.storing("blob_commit", { () throws(StoreError) in try box.writer.commit() }, into: digestOut)
            },
            blob_abort: { writer in
                guard let writer, let box = writerBox(writer) else { return }
                box.context.closeWriter(box)
                box.writer.abort()
                release(writer)
            },
            parent_layer: { context, lengthOut in
                guard let context = CaptureContext.from(context) else {
                    lengthOut?.pointee = 0
                    return nil
                }
                return context.parent(length: lengthOut)
            },
            set_layer: { context, json, length in
                guard let context = CaptureContext.from(context), let json else { return Int32(PF_ERR_INVALID) }
                let bytes = Array(UnsafeRawBufferPointer(start: json, count: length))
                return context.setLayer(bytes)
            },
            set_error: { context, message in
                guard let context = CaptureContext.from(context), let message else { return }
                context.setError(String(cString: message))
            },
            log: { context, level, message in
                guard let context = CaptureContext.from(context), let message else { return }
                context.log(level: level, String(cString: message))
            },
            progress: { context, done, total in
                CaptureContext.from(context)?.progress(done: done, total: total)
            },
            cancelled: { context in
                (CaptureContext.from(context)?.isCancelled ?? true) ? 1 : 0
            },
            put_fd: { context, fd, size, mediaType, digestOut, sizeOut, flagsOut in
                guard let context = CaptureContext.from(context), fd >= 0, mediaType != nil, digestOut != nil, sizeOut != nil,
                      size == PF_SIZE_FSTAT || size <= UInt64(Int64.max) else { return Int32(PF_ERR_INVALID) }
                let limit = size == PF_SIZE_FSTAT ? nil : Int64(size)
                var changed = false
                let code = context.storing("put_fd", { () throws(StoreError) in
                    let stored = try context.store.putFile(descriptor: fd, size: limit, display: "descriptor \(fd)")
                    changed = stored.changed
                    return stored.blob
                }, into: digestOut, size: sizeOut)
                flagsOut?.pointee = code == Int32(PF_OK) && changed ? UInt32(PF_PUT_CHANGED) : 0
                return code
            },
            open_blob: RestoreServices.openBlob,
            make_directory: RestoreServices.makeDirectory,
            create_file: RestoreServices.createFile,
            make_symlink: RestoreServices.makeSymlink,
            set_attributes: RestoreServices.setAttributes,
            set_restored_config: RestoreServices.setRestoredConfig,
            report: RestoreServices.report
        ))
        return table
    }
}

/// The box behind a `pf_blob_writer *`. (File-level: a C function pointer cannot capture.)
private func writerBox(_ writer: OpaquePointer?) -> BlobWriterBox? {
    guard let writer else { return nil }
    return Unmanaged<BlobWriterBox>.fromOpaque(UnsafeRawPointer(writer)).takeUnretainedValue()
}

/// Drops the reference `blob_open` handed out.
private func release(_ writer: OpaquePointer) {
    Unmanaged<BlobWriterBox>.fromOpaque(UnsafeRawPointer(writer)).release()
}
