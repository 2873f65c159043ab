import CPFPluginABI

/// The restore services of the `pf_host` table (ABI 1.1): C entry points that find their
/// ``RestoreContext`` through the `pf_ctx *` and do the work there. Outside a restore (a capture's
/// context) they return `PF_ERR_UNSUPPORTED`, and `report` does nothing. Every one is thread-safe.
enum RestoreServices {
    typealias OpenBlob = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<UInt64>?) -> Int32
    typealias MakeDirectory = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, UInt32) -> Int32
    typealias CreateFile = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, UInt32, UnsafeMutablePointer<Int32>?) -> Int32
    typealias MakeSymlink = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Int32
    typealias SetAttributes = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, UInt32, Int64) -> Int32
    typealias SetRestoredConfig = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, Int32) -> Int32
    typealias Report = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void

    /// The code for a call that names no restore: a capture's context (unsupported) or garbage.
    private static func outside(_ context: OpaquePointer?) -> Int32 {
        Int32(context == nil ? PF_ERR_INVALID : PF_ERR_UNSUPPORTED)
    }

    static let openBlob: OpenBlob = { context, digest, fdOut, sizeOut in
        guard let restore = RestoreContext.from(context) else { return outside(context) }
        guard let digest, let fdOut else { return Int32(PF_ERR_INVALID) }
        return restore.openBlob(digest, fd: fdOut, size: sizeOut)
    }

    static let makeDirectory: MakeDirectory = { context, path, mode in
        guard let restore = RestoreContext.from(context) else { return outside(context) }
        guard let path else { return Int32(PF_ERR_INVALID) }
        return restore.makeDirectory(path, mode: mode)
    }

    static let createFile: CreateFile = { context, path, mode, fdOut in
        guard let restore = RestoreContext.from(context) else { return outside(context) }
        guard let path, let fdOut else { return Int32(PF_ERR_INVALID) }
        return restore.createFile(path, mode: mode, fd: fdOut)
    }

    static let makeSymlink: MakeSymlink = { context, target, path in
        guard let restore = RestoreContext.from(context) else { return outside(context) }
        guard let target, let path else { return Int32(PF_ERR_INVALID) }
        return restore.makeSymlink(target: target, path)
    }

    static let setAttributes: SetAttributes = { context, path, mode, mtime in
        guard let restore = RestoreContext.from(context) else { return outside(context) }
        guard let path else { return Int32(PF_ERR_INVALID) }
        return restore.setAttributes(path, mode: mode, mtime: mtime)
    }

    static let setRestoredConfig: SetRestoredConfig = { context, key, value, isPath in
        guard let restore = RestoreContext.from(context) else { return outside(context) }
        guard let key, let value else { return Int32(PF_ERR_INVALID) }
        return restore.setRestoredConfig(key: key, value: value, isPath: isPath != 0)
    }

    static let report: Report = { context, key, value in
        guard let restore = RestoreContext.from(context), let key, let value else { return }
        restore.report(key: key, value: value)
    }
}
