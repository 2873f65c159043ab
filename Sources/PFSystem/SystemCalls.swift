import CPFShims
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every file-system call pfhost makes, wrapped once: the store, the host, the plugin kit and the
/// reference plugins all go through this type.
///
/// Each wrapper retries on `EINTR`, turns failure into a ``SystemCallError`` naming the call and
/// the path, and first asks the optional fault hook: tests pass a hook that fails a chosen call
/// with a chosen errno, to prove a protocol at every step (the pattern of swift-system's
/// `Syscalls.swift`). Production code passes no hook.
///
/// Paths under a directory the user named are resolved relative to that directory's descriptor,
/// never as strings: ``openBeneath(_:_:flags:display:)`` refuses every symlink and every `..` on
/// the way, so a tree swapped under the caller's feet cannot lead it outside. Names are bytes
/// (`[UInt8]`): the kernel allows any byte but `/` and NUL, and a lossy decoding would merge or
/// lose files.
public struct SystemCalls: Sendable {
    /// The calls a fault hook can fail.
    public enum Operation: String, Sendable, CaseIterable {
        case open, read, write, fsync, syncfs, close, rename, unlink, mkdir, stat, flock, readdir, readlink
        case symlink, chmod, utimes, truncate
    }

    /// Returns an errno to fail the call with, or nil to let it run.
    public typealias FaultHook = @Sendable (_ operation: Operation, _ path: String) -> Int32?

    let faultHook: FaultHook?

    /// System calls, failing where `faultHook` says (tests only; nil in production).
    public init(faultHook: FaultHook? = nil) {
        self.faultHook = faultHook
    }

    func check(_ operation: Operation, _ path: @autoclosure () -> String) throws(SystemCallError) {
        if let hook = faultHook {
            let path = path()
            if let code = hook(operation, path) { throw SystemCallError(operation: operation.rawValue, path: path, code: code) }
        }
    }

    func fail(_ operation: Operation, _ path: String, code: Int32 = errno) -> SystemCallError {
        SystemCallError(operation: operation.rawValue, path: path, code: code)
    }

    // MARK: Opening

    /// `O_PATH`: a descriptor that only locates a file (for `*at` calls and `fstat`), needing no
    /// permission to read it.
    public static let pathOnly: Int32 = pf_o_path

    /// `open(2)` with `O_CLOEXEC` added.
    public func open(_ path: String, _ flags: Int32, mode: mode_t = 0) throws(SystemCallError) -> Int32 {
        try check(.open, path)
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw fail(.open, path) }
        }
    }

    /// Puts `/dev/null` where descriptor 0, 1 or 2 is closed, opened so that using it fails: for
    /// reading only on 1 and 2 (a write is `EBADF`), for writing only on 0. A process started with
    /// stdout closed would otherwise have the next file it opens (a blob, a lock, an eventfd of
    /// Dispatch) take descriptor 1, and print its output into that file and report success.
    ///
    /// It also remembers which file descriptor 1 is, for ``standardOutputIsReplaced()``.
    public static func reserveStandardDescriptors() {
        for fd: Int32 in 0...2 where fcntl(fd, F_GETFD) == -1 && errno == EBADF {
            let opened = Glibc.open("/dev/null", (fd == 0 ? O_WRONLY : O_RDONLY) | O_NOCTTY)
            // The lowest free number is this one; anything else would be a descriptor to close again.
            if opened >= 0 && opened != fd { Glibc.close(opened) }
        }
        originalStandardOutput.withLock { $0 = identity(of: STDOUT_FILENO) }
    }

    /// Whether descriptor 1 is no longer the file it was at ``reserveStandardDescriptors()``: code
    /// loaded into the process (a plugin's constructor) closed it, and the number went to a file
    /// opened since, or was made to name another file. Then it is replaced by a descriptor every
    /// write fails on, so that output never lands in that file; returns true.
    public static func standardOutputIsReplaced() -> Bool {
        guard let original = originalStandardOutput.withLock({ $0 }), identity(of: STDOUT_FILENO) != original else { return false }
        let failing = Glibc.open("/dev/null", O_RDONLY | O_NOCTTY | O_CLOEXEC)
        if failing >= 0 {
            _ = dup2(failing, STDOUT_FILENO)
            Glibc.close(failing)
        }
        return true
    }

    /// The device and inode of the file descriptor `fd` names, or nil when it is closed.
    private static func identity(of fd: Int32) -> [UInt64]? {
        var status = stat()
        guard fstat(fd, &status) == 0 else { return nil }
        return [UInt64(status.st_dev), UInt64(status.st_ino)]
    }

    /// Descriptor 1's ``identity(of:)`` when the process started.
    private static let originalStandardOutput = Mutex<[UInt64]?>(nil)

    /// `fcntl(F_DUPFD_CLOEXEC)`: a second descriptor for what `fd` refers to, the lowest number
    /// free from `minimum` on. `path` is the name errors give it.
    public func duplicate(_ fd: Int32, minimum: Int32 = 0, path: @autoclosure () -> String) throws(SystemCallError) -> Int32 {
        try check(.open, path())
        let copy = fcntl(fd, F_DUPFD_CLOEXEC, minimum)
        if copy < 0 { throw fail(.open, path()) }
        return copy
    }

    /// `openat(2)` of one name in the directory `directory`, with `O_CLOEXEC` added. `display` is
    /// the path errors name.
    public func open(at directory: Int32, _ name: UnsafePointer<CChar>, _ flags: Int32, mode: mode_t = 0,
                     display: @autoclosure () -> String) throws(SystemCallError) -> Int32 {
        try check(.open, display())
        while true {
            let fd = openat(directory, name, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw fail(.open, display()) }
        }
    }

    /// Opens `relative` (a path of one or more components, as bytes) beneath the directory `root`,
    /// following no symlink on the way and refusing to leave `root`.
    ///
    /// Uses `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)` where the
    /// kernel has it, so the kernel checks every component atomically; otherwise (and for paths
    /// longer than `PATH_MAX`, which `openat2` refuses) it walks the components itself, opening
    /// each directory with `O_NOFOLLOW | O_DIRECTORY` relative to the previous one. `O_NOFOLLOW` and
    /// `O_CLOEXEC` are always added. A symlink anywhere fails with `ELOOP` (or `EXDEV`/`ENOTDIR`), a
    /// missing component with `ENOENT`; an empty path, an absolute one, or a `.`/`..`/empty component
    /// with `EINVAL`.
    public func openBeneath(_ root: Int32, _ relative: [UInt8], flags: Int32, mode: mode_t = 0,
                            display: @autoclosure () -> String) throws(SystemCallError) -> Int32 {
        try check(.open, display())
        guard Self.isPlainRelative(relative) else { throw fail(.open, display(), code: EINVAL) }
        let flags = flags | O_NOFOLLOW | O_CLOEXEC
        if relative.count < Int(PATH_MAX) && Self.openat2Works.load(ordering: .relaxed) {
            while true {
                let fd = relative.withCString { pf_openat2(root, $0, flags, UInt32(mode), PF_RESOLVE_BENEATH_NO_SYMLINKS) }
                if fd >= 0 { return Int32(fd) }
                if errno == EINTR || errno == EAGAIN { continue }
                if errno != ENOSYS && errno != EPERM { throw fail(.open, display()) }
                // No openat2 (an old kernel, or a seccomp filter that says EPERM/ENOSYS): walk.
                Self.openat2Works.store(false, ordering: .relaxed)
                break
            }
        }
        var directory = root
        defer { if directory != root { Glibc.close(directory) } }
        let components = relative.split(separator: UInt8(ascii: "/"))
        for (number, component) in components.enumerated() {
            let last = number == components.count - 1
            let componentFlags = last ? flags : O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
            var fd: Int32 = -1
            repeat {
                fd = Array(component).withCString { name in openat(directory, name, componentFlags, mode) }
            } while fd < 0 && errno == EINTR
            guard fd >= 0 else { throw fail(.open, display()) }
            if last { return fd }
            if directory != root { Glibc.close(directory) }
            directory = fd
        }
        throw fail(.open, display(), code: EINVAL)
    }

    /// Whether `path` is relative and names no `.`, `..` or empty component.
    public static func isPlainRelative(_ path: [UInt8]) -> Bool {
        guard !path.isEmpty, path.first != UInt8(ascii: "/"), !path.contains(0) else { return false }
        for component in path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            if component.isEmpty || component.elementsEqual([46]) || component.elementsEqual([46, 46]) { return false }
        }
        return true
    }

    /// Whether `openat2` has worked so far in this process (cleared at its first `ENOSYS`).
    private static let openat2Works = Atomic<Bool>(true)

    // MARK: Reading and writing

    /// Reads up to `count` bytes; 0 at end of file.
    public func read(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int, path: @autoclosure () -> String) throws(SystemCallError) -> Int {
        try check(.read, path())
        while true {
            let n = Glibc.read(fd, buffer, count)
            if n >= 0 { return n }
            if errno != EINTR { throw fail(.read, path()) }
        }
    }

    /// Reads up to `count` bytes at `offset` (the file offset does not move); 0 at end of file.
    public func read(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int64,
                     path: @autoclosure () -> String) throws(SystemCallError) -> Int {
        try check(.read, path())
        while true {
            let n = pread(fd, buffer, count, off_t(offset))
            if n >= 0 { return n }
            if errno != EINTR { throw fail(.read, path()) }
        }
    }

    /// Fills `buffer` from `offset` on, stopping early only at the end of the file; returns the
    /// bytes read.
    public func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64,
                          path: @autoclosure () -> String) throws(SystemCallError) -> Int {
        var done = 0
        while done < buffer.count {
            let n = try read(fd, into: buffer.baseAddress! + done, count: buffer.count - done, at: offset + Int64(done), path: path())
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Writes all `count` bytes.
    public func write(_ fd: Int32, _ buffer: UnsafeRawPointer, count: Int, path: @autoclosure () -> String) throws(SystemCallError) {
        try check(.write, path())
        var done = 0
        while done < count {
            let n = Glibc.write(fd, buffer + done, count - done)
            if n > 0 { done += n } else if n < 0 && errno == EINTR { continue } else { throw fail(.write, path(), code: n == 0 ? EIO : errno) }
        }
    }

    public func fsync(_ fd: Int32, path: @autoclosure () -> String) throws(SystemCallError) {
        try check(.fsync, path())
        while Glibc.fsync(fd) != 0 {
            if errno != EINTR { throw fail(.fsync, path()) }
        }
    }

    /// Flushes the whole filesystem holding `fd` (one flush for many files).
    public func syncfs(_ fd: Int32, path: String) throws(SystemCallError) {
        try check(.syncfs, path)
        while pf_syncfs(fd) != 0 {
            if errno != EINTR { throw fail(.syncfs, path) }
        }
    }

    public func close(_ fd: Int32, path: @autoclosure () -> String) throws(SystemCallError) {
        // Linux releases the descriptor even when close fails, so an injected failure releases it
        // too: a test failing a close must not leave a lock held that no real close would.
        do { try check(.close, path()) } catch {
            Glibc.close(fd)
            throw error
        }
        // Never retry.
        if Glibc.close(fd) != 0 && errno != EINTR { throw fail(.close, path()) }
    }

    // MARK: Names

    /// Renames, replacing any existing `to`.
    public func rename(_ from: String, _ to: String) throws(SystemCallError) {
        try check(.rename, to)
        if Glibc.rename(from, to) != 0 { throw fail(.rename, to) }
    }

    /// Renames unless `to` exists; returns false (and leaves both) when it does.
    public func renameNoReplace(_ from: String, _ to: String) throws(SystemCallError) -> Bool {
        try check(.rename, to)
        if pf_rename_noreplace(AT_FDCWD, from, AT_FDCWD, to) == 0 { return true }
        if errno == EEXIST { return false }
        throw fail(.rename, to)
    }

    /// Removes a name; a missing one is success.
    public func unlink(_ path: String) throws(SystemCallError) {
        try check(.unlink, path)
        if Glibc.unlink(path) != 0 && errno != ENOENT { throw fail(.unlink, path) }
    }

    /// Creates a directory; an existing one is success.
    public func mkdir(_ path: String, mode: mode_t = 0o755) throws(SystemCallError) {
        try check(.mkdir, path)
        if Glibc.mkdir(path, mode) != 0 && errno != EEXIST { throw fail(.mkdir, path) }
    }

    // MARK: Status

    /// `stat` (symlinks followed), or nil when nothing is at `path`.
    public func status(_ path: String) throws(SystemCallError) -> stat? {
        try check(.stat, path)
        var info = stat()
        if stat(path, &info) == 0 { return info }
        if errno == ENOENT || errno == ENOTDIR { return nil }
        throw fail(.stat, path)
    }

    /// `lstat` (a symlink is reported as itself), or nil when nothing is at `path`.
    public func linkStatus(_ path: String) throws(SystemCallError) -> stat? {
        try check(.stat, path)
        var info = stat()
        if lstat(path, &info) == 0 { return info }
        if errno == ENOENT || errno == ENOTDIR { return nil }
        throw fail(.stat, path)
    }

    /// `fstat`.
    public func status(_ fd: Int32, path: @autoclosure () -> String) throws(SystemCallError) -> stat {
        try check(.stat, path())
        var info = stat()
        if fstat(fd, &info) != 0 { throw fail(.stat, path()) }
        return info
    }

    /// The bytes an unprivileged writer may still write to the file system holding the open file
    /// `fd` (`fstatvfs(2)`: available blocks times the fragment size, `Int64.max` when that overflows).
    public func availableBytes(_ fd: Int32, path: @autoclosure () -> String) throws(SystemCallError) -> Int64 {
        try check(.stat, path())
        var info = statvfs()
        while fstatvfs(fd, &info) != 0 {
            guard errno == EINTR else { throw fail(.stat, path()) }
        }
        let (bytes, overflow) = UInt64(info.f_bavail).multipliedReportingOverflow(by: UInt64(info.f_frsize))
        return overflow || bytes > UInt64(Int64.max) ? .max : Int64(bytes)
    }

    /// `statfs(2)`'s `f_type` for the file system holding `path` (symlinks followed): `0x9fa0` for
    /// procfs, for instance.
    public func fileSystemType(_ path: String) throws(SystemCallError) -> Int64 {
        try check(.stat, path)
        var type: Int64 = 0
        while pf_statfs_type(path, &type) != 0 {
            if errno != EINTR { throw fail(.stat, path) }
        }
        return type
    }

    /// `fstatat(AT_SYMLINK_NOFOLLOW)` of one name in `directory`, or nil when it is gone.
    public func linkStatus(at directory: Int32, _ name: UnsafePointer<CChar>, display: @autoclosure () -> String) throws(SystemCallError) -> stat? {
        try check(.stat, display())
        var info = stat()
        if fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 { return info }
        if errno == ENOENT { return nil }
        throw fail(.stat, display())
    }

    /// The target of the symlink `name` in `directory`, as bytes.
    public func readLink(at directory: Int32, _ name: UnsafePointer<CChar>, display: @autoclosure () -> String) throws(SystemCallError) -> [UInt8] {
        try check(.readlink, display())
        var capacity = 256
        while true {
            var buffer = [UInt8](repeating: 0, count: capacity)
            let length = buffer.withUnsafeMutableBytes { raw in
                readlinkat(directory, name, raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count)
            }
            guard length >= 0 else { throw fail(.readlink, display()) }
            // A target that fills the buffer may have been cut: try again, larger.
            if length < capacity { return Array(buffer[0..<length]) }
            guard capacity < 1 << 20 else { throw fail(.readlink, display(), code: ENAMETOOLONG) }
            capacity *= 4
        }
    }

    /// The target of the symlink at `path`, as bytes.
    public func readLink(_ path: String) throws(SystemCallError) -> [UInt8] {
        try readLink(at: AT_FDCWD, path, display: path)
    }

    /// Takes an exclusive `flock` on `fd`, waiting for it.
    public func lockExclusive(_ fd: Int32, path: String) throws(SystemCallError) {
        try check(.flock, path)
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR { throw fail(.flock, path) }
        }
    }

    /// Takes a shared `flock` on `fd`, waiting for it.
    public func lockShared(_ fd: Int32, path: String) throws(SystemCallError) {
        try check(.flock, path)
        while flock(fd, LOCK_SH) != 0 {
            if errno != EINTR { throw fail(.flock, path) }
        }
    }

    /// `ftruncate(2)`: cuts or extends the file open as `fd` to `size` bytes.
    public func truncate(_ fd: Int32, to size: Int64, path: @autoclosure () -> String) throws(SystemCallError) {
        try check(.truncate, path())
        while ftruncate(fd, off_t(size)) != 0 {
            if errno != EINTR { throw fail(.truncate, path()) }
        }
    }

    // MARK: Directories

    /// The names in the directory open as `fd` (which stays open and is not moved), without `.`
    /// and `..`, as bytes, in the order the file system gives them.
    public func names(inDirectory fd: Int32, path: @autoclosure () -> String) throws(SystemCallError) -> [[UInt8]] {
        let names = try nameBuffer(inDirectory: fd, path: path())
        return names.starts.map { start in Array(names.bytes[start..<(start + names.length(at: start))]) }
    }

    /// ``names(inDirectory:path:)`` in one buffer (``DirectoryNames``), in the order the file
    /// system gives them: no allocation per name.
    public func nameBuffer(inDirectory fd: Int32, path: @autoclosure () -> String) throws(SystemCallError) -> DirectoryNames {
        try check(.readdir, path())
        let copy = dup(fd)
        guard copy >= 0 else { throw fail(.readdir, path()) }
        guard let dir = fdopendir(copy) else {
            let code = errno
            Glibc.close(copy)
            throw fail(.readdir, path(), code: code)
        }
        defer { closedir(dir) }
        rewinddir(dir)
        var names = DirectoryNames()
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw fail(.readdir, path()) }
                return names
            }
            withUnsafeBytes(of: entry.pointee.d_name) { raw in
                let name = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                let length = strlen(raw.baseAddress!.assumingMemoryBound(to: CChar.self))
                let dots = name[0] == 46 && (length == 1 || (length == 2 && name[1] == 46))
                if !dots { names.append(name, length: length) }
            }
        }
    }

    /// The names in the directory at `path`, without `.` and `..` (names that are not UTF-8 are
    /// decoded with replacement characters: for directories pfhost names itself, like `blobs/`).
    public func listDirectory(_ path: String) throws(SystemCallError) -> [String] {
        try listDirectoryBytes(path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The names in directory `path` as the kernel gives them (bytes, no `.` or `..`).
    public func listDirectoryBytes(_ path: String) throws(SystemCallError) -> [[UInt8]] {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { Glibc.close(fd) }
        return try names(inDirectory: fd, path: path)
    }

    // MARK: Whole files

    /// Reads a whole file (for small files: JSON documents), at most `limit` bytes (`EFBIG` past
    /// that). A regular file is read up to the size `fstat` gave when it was opened, so a file that
    /// grows while it is read ends where it ended then; a file of size 0 (`/proc` entries report 0)
    /// is read to its end.
    ///
    /// With `followSymlinks` false, a symlink at `path` itself fails with `ELOOP` (for files inside a
    /// store, and for plugin inputs an agent could replace with a link), and anything but a regular
    /// file fails before it is opened: opening a device can have effects of its own.
    public func readFile(_ path: String, limit: Int = 64 << 20, followSymlinks: Bool = true) throws(SystemCallError) -> [UInt8] {
        if !followSymlinks, let info = try linkStatus(path), info.st_mode & S_IFMT != S_IFREG {
            let kind = info.st_mode & S_IFMT
            throw fail(.open, path, code: kind == S_IFLNK ? ELOOP : kind == S_IFDIR ? EISDIR : EINVAL)
        }
        let fd = try open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | (followSymlinks ? 0 : O_NOFOLLOW))
        defer { Glibc.close(fd) }
        return try readFile(fd, path: path, limit: limit)
    }

    /// ``readFile(_:limit:)`` of an open descriptor, from its start.
    public func readFile(_ fd: Int32, path: @autoclosure () -> String, limit: Int = 64 << 20) throws(SystemCallError) -> [UInt8] {
        let info = try status(fd, path: path())
        let kind = info.st_mode & S_IFMT
        guard kind == S_IFREG else { throw fail(.read, path(), code: kind == S_IFDIR ? EISDIR : EINVAL) }
        let statedSize = Int64(info.st_size)
        guard statedSize <= Int64(limit) else { throw fail(.read, path(), code: EFBIG) }
        // A stat'ed size bounds the read; one byte more than the limit tells a pseudo-file too big.
        let bound = statedSize > 0 ? Int(statedSize) : limit + 1
        var bytes = [UInt8](repeating: 0, count: statedSize > 0 ? bound : min(bound, 64 << 10))
        var count = 0
        while count < bound {
            if count == bytes.count { bytes.append(contentsOf: repeatElement(0, count: min(bytes.count, bound - count))) }
            let n = try withBytes(&bytes) { (raw) throws(SystemCallError) -> Int in
                try read(fd, into: raw.baseAddress! + count, count: raw.count - count, at: Int64(count), path: path())
            }
            if n == 0 { break }
            count += n
        }
        guard count <= limit else { throw fail(.read, path(), code: EFBIG) }
        bytes.removeSubrange(count...)
        return bytes
    }

    /// Writes `bytes` to a new file at `path` (a temporary name the caller owns), optionally fsyncing
    /// it, and closes it. Whatever is at `path` first is unlinked and the file created with `O_EXCL`,
    /// so a symlink or a FIFO someone put there is replaced, never written through or waited on.
    public func writeFile(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644, sync: Bool) throws(SystemCallError) {
        try unlink(path)
        let fd = try open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: mode)
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
    public func fsyncDirectory(_ path: String) throws(SystemCallError) {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { try? close(fd, path: path) }
        try fsync(fd, path: path)
    }

    // MARK: Paths

    /// The working directory, as the kernel reports it (no symlinks).
    public static func currentDirectory() throws(SystemCallError) -> String {
        guard let pointer = getcwd(nil, 0) else { throw SystemCallError(operation: "getcwd", path: ".", code: errno) }
        defer { free(pointer) }
        return String(cString: pointer)
    }

    /// `path` made absolute against the working directory (`./x` → `/cwd/x`); unchanged when it
    /// is absolute or the working directory cannot be read.
    public static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        guard let cwd = try? currentDirectory() else { return path }
        let trimmed = path.hasPrefix("./") ? String(path.dropFirst(2)) : path
        return trimmed.isEmpty || trimmed == "." ? cwd : (cwd == "/" ? "/" : cwd + "/") + trimmed
    }
}

extension Array where Element == UInt8 {
    /// Calls `body` with the bytes as a NUL-terminated C string.
    @inlinable
    public func withCString<T, E: Error>(_ body: (UnsafePointer<CChar>) throws(E) -> T) throws(E) -> T {
        var terminated = self
        terminated.append(0)
        return try terminated.withUnsafeBytes { raw in
            Result { () throws(E) in try body(raw.baseAddress!.assumingMemoryBound(to: CChar.self)) }
        }.get()
    }
}

/// `Array.withUnsafeBytes`, keeping the closure's typed error.
public func withBytes<T, E: Error>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(E) -> T) throws(E) -> T {
    try bytes.withUnsafeBytes { raw in Result { () throws(E) in try body(raw) } }.get()
}

/// `Array.withUnsafeMutableBytes`, keeping the closure's typed error.
public func withBytes<T, E: Error>(_ bytes: inout [UInt8], _ body: (UnsafeMutableRawBufferPointer) throws(E) -> T) throws(E) -> T {
    try bytes.withUnsafeMutableBytes { raw in Result { () throws(E) in try body(raw) } }.get()
}
