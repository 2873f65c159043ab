import CPFShims
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every system call the store makes, wrapped once.
///
/// Each wrapper retries on `EINTR`, turns failure into a ``SystemCallError`` naming the call
/// and the path, and first asks the optional fault hook: tests pass a hook that fails a chosen
/// call with a chosen errno, to prove the commit protocol at every step (the pattern of
/// swift-system's `Syscalls.swift`). Production stores have no hook.
struct SystemCalls: Sendable {
    /// The calls a fault hook can fail.
    enum Operation: String, Sendable, CaseIterable {
        case open, read, write, fsync, syncfs, close, rename, unlink, mkdir, stat, flock, readdir
    }

    /// Returns an errno to fail the call with, or nil to let it run.
    typealias FaultHook = @Sendable (_ operation: Operation, _ path: String) -> Int32?

    let faultHook: FaultHook?

    init(faultHook: FaultHook? = nil) {
        self.faultHook = faultHook
    }

    private func check(_ operation: Operation, _ path: String) throws(SystemCallError) {
        if let hook = faultHook, let code = hook(operation, path) {
            throw SystemCallError(operation: operation.rawValue, path: path, code: code)
        }
    }

    private func fail(_ operation: Operation, _ path: String) -> SystemCallError {
        SystemCallError(operation: operation.rawValue, path: path, code: errno)
    }

    func open(_ path: String, _ flags: Int32, mode: mode_t = 0) throws(SystemCallError) -> Int32 {
        try check(.open, path)
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw fail(.open, path) }
        }
    }

    /// Reads up to `count` bytes; 0 at end of file.
    func read(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int, path: String) throws(SystemCallError) -> Int {
        try check(.read, path)
        while true {
            let n = Glibc.read(fd, buffer, count)
            if n >= 0 { return n }
            if errno != EINTR { throw fail(.read, path) }
        }
    }

    /// Writes all `count` bytes.
    func write(_ fd: Int32, _ buffer: UnsafeRawPointer, count: Int, path: String) throws(SystemCallError) {
        try check(.write, path)
        var done = 0
        while done < count {
            let n = Glibc.write(fd, buffer + done, count - done)
            if n > 0 { done += n } else if n < 0 && errno == EINTR { continue } else { throw fail(.write, path) }
        }
    }

    func fsync(_ fd: Int32, path: String) throws(SystemCallError) {
        try check(.fsync, path)
        while Glibc.fsync(fd) != 0 {
            if errno != EINTR { throw fail(.fsync, path) }
        }
    }

    /// Flushes the whole filesystem holding `fd` (one flush for many files).
    func syncfs(_ fd: Int32, path: String) throws(SystemCallError) {
        try check(.syncfs, path)
        while pf_syncfs(fd) != 0 {
            if errno != EINTR { throw fail(.syncfs, path) }
        }
    }

    func close(_ fd: Int32, path: String) throws(SystemCallError) {
        try check(.close, path)
        // Linux releases the descriptor even when close fails, so never retry.
        if Glibc.close(fd) != 0 && errno != EINTR { throw fail(.close, path) }
    }

    /// Renames, replacing any existing `to`.
    func rename(_ from: String, _ to: String) throws(SystemCallError) {
        try check(.rename, to)
        if Glibc.rename(from, to) != 0 { throw fail(.rename, to) }
    }

    /// Renames unless `to` exists; returns false (and leaves both) when it does.
    func renameNoReplace(_ from: String, _ to: String) throws(SystemCallError) -> Bool {
        try check(.rename, to)
        if pf_rename_noreplace(AT_FDCWD, from, AT_FDCWD, to) == 0 { return true }
        if errno == EEXIST { return false }
        throw fail(.rename, to)
    }

    func unlink(_ path: String) throws(SystemCallError) {
        try check(.unlink, path)
        if Glibc.unlink(path) != 0 && errno != ENOENT { throw fail(.unlink, path) }
    }

    /// Creates a directory; an existing one is success.
    func mkdir(_ path: String, mode: mode_t = 0o755) throws(SystemCallError) {
        try check(.mkdir, path)
        if Glibc.mkdir(path, mode) != 0 && errno != EEXIST { throw fail(.mkdir, path) }
    }

    /// `stat`, or nil when nothing is at `path`.
    func status(_ path: String) throws(SystemCallError) -> stat? {
        try check(.stat, path)
        var info = stat()
        if stat(path, &info) == 0 { return info }
        if errno == ENOENT || errno == ENOTDIR { return nil }
        throw fail(.stat, path)
    }

    func status(_ fd: Int32, path: String) throws(SystemCallError) -> stat {
        try check(.stat, path)
        var info = stat()
        if fstat(fd, &info) != 0 { throw fail(.stat, path) }
        return info
    }

    /// Takes an exclusive `flock` on `fd`, waiting for it.
    func lockExclusive(_ fd: Int32, path: String) throws(SystemCallError) {
        try check(.flock, path)
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR { throw fail(.flock, path) }
        }
    }

    /// The names in a directory, without `.` and `..`.
    func listDirectory(_ path: String) throws(SystemCallError) -> [String] {
        try check(.readdir, path)
        guard let dir = opendir(path) else { throw fail(.readdir, path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Reads a whole file (for small files: JSON documents).
    func readFile(_ path: String, limit: Int = 64 << 20) throws(SystemCallError) -> [UInt8] {
        let fd = try open(path, O_RDONLY)
        defer { try? close(fd, path: path) }
        var bytes: [UInt8] = []
        // The size is only a capacity hint (one allocation, not a doubling per 64 KiB read), so
        // it is asked without the fault hook: the reads below decide what the file holds.
        var info = stat()
        if fstat(fd, &info) == 0, info.st_size > 0 { bytes.reserveCapacity(min(Int(info.st_size), limit) + 1) }
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = try withBytes(&chunk) { (raw) throws(SystemCallError) -> Int in
                try read(fd, into: raw.baseAddress!, count: raw.count, path: path)
            }
            if n == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<n])
            if bytes.count > limit { throw SystemCallError(operation: "read", path: path, code: EFBIG) }
        }
    }

    /// Writes `bytes` to a new or truncated file, optionally fsyncing it, and closes it.
    func writeFile(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644, sync: Bool) throws(SystemCallError) {
        let fd = try open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: mode)
        do {
            try withBytes(bytes) { (raw) throws(SystemCallError) in
                if raw.count > 0 { try write(fd, raw.baseAddress!, count: raw.count, path: path) }
            }
            if sync { try fsync(fd, path: path) }
        } catch {
            try? close(fd, path: path)
            throw error
        }
        try close(fd, path: path)
    }

    /// fsyncs a directory, making renames and creations in it durable.
    func fsyncDirectory(_ path: String) throws(SystemCallError) {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { try? close(fd, path: path) }
        try fsync(fd, path: path)
    }
}

/// `Array.withUnsafeBytes`, keeping the closure's typed error.
func withBytes<T, E: Error>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(E) -> T) throws(E) -> T {
    try bytes.withUnsafeBytes { raw in Result { () throws(E) in try body(raw) } }.get()
}

/// `Array.withUnsafeMutableBytes`, keeping the closure's typed error.
func withBytes<T, E: Error>(_ bytes: inout [UInt8], _ body: (UnsafeMutableRawBufferPointer) throws(E) -> T) throws(E) -> T {
    try bytes.withUnsafeMutableBytes { raw in Result { () throws(E) in try body(raw) } }.get()
}
