import CPFShims
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Creating things beneath a directory held open, for restores: the mirror of
/// ``SystemCalls/openBeneath(_:_:flags:mode:display:)``. Every path is bytes relative to the
/// directory `root`, checked with ``SystemCalls/isPlainRelative(_:)`` (`EINVAL` otherwise); the
/// parent of what is created is opened beneath `root` following no symlink, and the last component is
/// created relative to that descriptor without following a symlink either. So a tree whose entries
/// name `../x`, `/etc/x`, or a file under a symlink (`link -> /etc`, then `link/passwd`) cannot make
/// any of these write outside `root`.
extension SystemCalls {
    /// The parent directory of `relative` opened beneath `root` (`root` itself for a single
    /// component, not to be closed) and the last component's name.
    private func parent(of relative: [UInt8], beneath root: Int32, display: () -> String) throws(SystemCallError) -> (fd: Int32, name: [UInt8]) {
        guard Self.isPlainRelative(relative) else { throw fail(.open, display(), code: EINVAL) }
        guard let slash = relative.lastIndex(of: UInt8(ascii: "/")) else { return (root, relative) }
        let directory = try openBeneath(root, Array(relative[..<slash]), flags: PF_O_PATH | O_DIRECTORY, display: display())
        return (directory, Array(relative[(slash + 1)...]))
    }

    /// Creates the regular file `relative` beneath `root` (`O_WRONLY | O_CREAT | O_EXCL`; anything
    /// already there, a symlink included, is `EEXIST`) and returns its descriptor.
    public func createFile(beneath root: Int32, _ relative: [UInt8], mode: mode_t,
                           display: @autoclosure () -> String) throws(SystemCallError) -> Int32 {
        try openBeneath(root, relative, flags: O_WRONLY | O_CREAT | O_EXCL, mode: mode & 0o7777, display: display())
    }

    /// Creates the directory `relative` beneath `root`; an existing directory is success, anything
    /// else already there is `EEXIST`.
    public func makeDirectory(beneath root: Int32, _ relative: [UInt8], mode: mode_t,
                              display: @autoclosure () -> String) throws(SystemCallError) {
        try check(.mkdir, display())
        let (directory, name) = try parent(of: relative, beneath: root, display: display)
        defer { if directory != root { Glibc.close(directory) } }
        let created = name.withCString { mkdirat(directory, $0, mode & 0o7777) }
        guard created != 0 else { return }
        let code = errno
        if code == EEXIST, let info = try name.withCString({ (cName) throws(SystemCallError) in
            try linkStatus(at: directory, cName, display: display())
        }), info.st_mode & S_IFMT == S_IFDIR {
            return
        }
        throw fail(.mkdir, display(), code: code)
    }

    /// Creates the symlink `relative` beneath `root` pointing at `target`, stored verbatim.
    public func makeSymlink(beneath root: Int32, _ relative: [UInt8], target: [UInt8],
                            display: @autoclosure () -> String) throws(SystemCallError) {
        try check(.symlink, display())
        guard !target.isEmpty, !target.contains(0) else { throw fail(.symlink, display(), code: EINVAL) }
        let (directory, name) = try parent(of: relative, beneath: root, display: display)
        defer { if directory != root { Glibc.close(directory) } }
        let result = target.withCString { cTarget in name.withCString { symlinkat(cTarget, directory, $0) } }
        if result != 0 { throw fail(.symlink, display()) }
    }

    /// Sets the permission bits (`mode & 0o7777`, unless nil; never on a symlink, which has none on
    /// Linux) and the modification and access times (`mtime` ns since 1970) of `relative` beneath
    /// `root`, without following a symlink there.
    ///
    /// With `dropSetID`, the setuid and setgid bits of `mode` are left out for anything but a
    /// directory (where setgid only makes new entries inherit the group); the result says whether
    /// a bit was left out.
    @discardableResult
    public func setAttributes(beneath root: Int32, _ relative: [UInt8], mode: mode_t?, mtime: Int64, dropSetID: Bool = false,
                              display: @autoclosure () -> String) throws(SystemCallError) -> Bool {
        let (directory, name) = try parent(of: relative, beneath: root, display: display)
        defer { if directory != root { Glibc.close(directory) } }
        return try name.withCString { (cName) throws(SystemCallError) -> Bool in
            var dropped = false
            if var mode {
                try check(.chmod, display())
                guard let info = try linkStatus(at: directory, cName, display: display()) else {
                    throw fail(.chmod, display(), code: ENOENT)
                }
                mode &= 0o7777
                if dropSetID {
                    let setID = info.st_mode & S_IFMT == S_IFDIR ? S_ISUID : S_ISUID | S_ISGID
                    dropped = mode & setID != 0
                    mode &= ~setID
                }
                // fchmodat cannot be told not to follow a symlink (before Linux 6.6), so a symlink
                // is never chmodded: it has no mode of its own, and its target is not ours to touch.
                // The name was just seen not to be one, in a directory only this process writes.
                if info.st_mode & S_IFMT != S_IFLNK, fchmodat(directory, cName, mode, 0) != 0 {
                    throw fail(.chmod, display())
                }
            }
            try check(.utimes, display())
            let time = Self.timespec(nanoseconds: mtime)
            let times = [time, time]
            if utimensat(directory, cName, times, AT_SYMLINK_NOFOLLOW) != 0 { throw fail(.utimes, display()) }
            return dropped
        }
    }

    /// A `timespec` for `nanoseconds` since 1970 (negative before), its `tv_nsec` in 0..<1e9.
    public static func timespec(nanoseconds: Int64) -> Glibc.timespec {
        var seconds = nanoseconds / 1_000_000_000
        var rest = nanoseconds % 1_000_000_000
        if rest < 0 {
            seconds -= 1
            rest += 1_000_000_000
        }
        return Glibc.timespec(tv_sec: Int(seconds), tv_nsec: Int(rest))
    }

    /// Copies `count` bytes from offset `from` of `input` to offset `to` of `output` (neither
    /// descriptor's offset moves), in the kernel with `copy_file_range` where it can (no copy
    /// through user space; extents shared on filesystems with reflinks), else with `pread` and
    /// `pwrite`. Returns the bytes copied: fewer than `count` only when `input` ends first.
    public func copy(from input: Int32, at from: Int64, to output: Int32, at to: Int64, count: Int64,
                     path: @autoclosure () -> String) throws(SystemCallError) -> Int64 {
        try check(.write, path())
        var done: Int64 = 0
        var kernelCopy = true
        while done < count {
            let chunk = Int(min(count - done, 1 << 30))
            if kernelCopy {
                let n = pf_copy_file_range(input, from + done, output, to + done, chunk)
                if n > 0 {
                    done += Int64(n)
                    continue
                }
                if n == 0 { return done }
                switch errno {
                case EINTR: continue
                // Not between these two files (other filesystems on old kernels, special files):
                // copy through a buffer instead.
                case EXDEV, ENOSYS, EINVAL, EOPNOTSUPP, EBADF: kernelCopy = false
                default: throw fail(.write, path())
                }
            }
            let copied = try copyThroughBuffer(from: input, at: from + done, to: output, at: to + done, count: count - done, path: path())
            return done + copied
        }
        return done
    }

    private func copyThroughBuffer(from input: Int32, at from: Int64, to output: Int32, at to: Int64, count: Int64,
                                   path: @autoclosure () -> String) throws(SystemCallError) -> Int64 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(min(count, 1 << 20)), alignment: 16)
        defer { buffer.deallocate() }
        var done: Int64 = 0
        while done < count {
            let want = Int(min(Int64(buffer.count), count - done))
            let n = try read(input, into: buffer.baseAddress!, count: want, at: from + done, path: path())
            if n == 0 { break }
            var written = 0
            while written < n {
                let w = pwrite(output, buffer.baseAddress! + written, n - written, off_t(to + done + Int64(written)))
                if w > 0 { written += w } else if w < 0 && errno == EINTR { continue } else { throw fail(.write, path(), code: w == 0 ? EIO : errno) }
            }
            done += Int64(n)
        }
        return done
    }

    /// Writes all of `buffer` at `offset` of `fd` (the descriptor's offset does not move).
    public func write(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, at offset: Int64, path: @autoclosure () -> String) throws(SystemCallError) {
        try check(.write, path())
        var done = 0
        while done < buffer.count {
            let n = pwrite(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + Int64(done)))
            if n > 0 { done += n } else if n < 0 && errno == EINTR { continue } else { throw fail(.write, path(), code: n == 0 ? EIO : errno) }
        }
    }

    // MARK: Whole directories

    /// Creates a new directory named `prefix` followed by six random characters (`mkdtemp`, mode
    /// 0700) and returns its path.
    public func makeTemporaryDirectory(prefix: String) throws(SystemCallError) -> String {
        try check(.mkdir, prefix)
        var template = Array((prefix + "XXXXXX").utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw fail(.mkdir, prefix + "XXXXXX")
        }
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `chdir(2)`: makes `path` the working directory of the whole process (every thread's).
    public func changeDirectory(_ path: String) throws(SystemCallError) {
        try check(.open, path)
        if chdir(path) != 0 { throw fail(.open, path) }
    }

    /// `fchdir(2)`: makes the directory open as `fd` the working directory of the whole process.
    public func changeDirectory(to fd: Int32, path: String) throws(SystemCallError) {
        try check(.open, path)
        if fchdir(fd) != 0 { throw fail(.open, path) }
    }

    /// Swaps the names `from` and `to` atomically (`renameat2(RENAME_EXCHANGE)`); both must exist.
    public func exchange(_ from: String, _ to: String) throws(SystemCallError) {
        try check(.rename, to)
        if pf_rename_exchange(AT_FDCWD, from, AT_FDCWD, to) != 0 { throw fail(.rename, to) }
    }

    /// Removes `path` and, if it is a directory, everything beneath it, following no symlink (a
    /// link is removed, never what it points to) and entering no other mount (a directory mounted
    /// beneath `path`, a bind mount of the same file system included, fails the removal with
    /// `EBUSY`, naming it, with nothing in it removed). Directories without write or search
    /// permission for their owner are given it first. A missing `path` is success.
    public func removeTree(_ path: String) throws(SystemCallError) {
        guard let info = try linkStatus(path) else { return }
        guard info.st_mode & S_IFMT == S_IFDIR else { return try unlink(path) }
        let fd: Int32
        do { fd = try open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW) } catch where error.code == EACCES {
            Glibc.chmod(path, 0o700)
            fd = try open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
        }
        defer { Glibc.close(fd) }
        try emptyDirectory(fd, display: path, mount: mountID(fd))
        try check(.unlink, path)
        if rmdir(path) != 0 && errno != ENOENT { throw fail(.unlink, path) }
    }

    /// The mount holding the file open as `fd`, or nil where the kernel cannot say (before 5.8).
    public func mountID(_ fd: Int32) -> UInt64? {
        var id: UInt64 = 0
        return pf_mount_id(fd, &id) == 0 ? id : nil
    }

    /// The first directory beneath `path` (not `path` itself) that is another mount, or nil; the
    /// walk follows no symlink and stops at the first mount found.
    public func firstMountBeneath(_ path: String) throws(SystemCallError) -> String? {
        guard let info = try linkStatus(path), info.st_mode & S_IFMT == S_IFDIR else { return nil }
        let fd = try open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
        defer { Glibc.close(fd) }
        guard let mount = mountID(fd) else { return nil }
        return try firstMount(in: fd, display: path, mount: mount)
    }

    private func firstMount(in fd: Int32, display: String, mount: UInt64) throws(SystemCallError) -> String? {
        for name in try names(inDirectory: fd, path: display) {
            let child = display + "/" + String(decoding: name, as: UTF8.self)
            let found = try name.withCString { (cName) throws(SystemCallError) -> String? in
                let sub = openat(fd, cName, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                // Not a directory (or gone, or unreadable: removing it will say so).
                guard sub >= 0 else { return nil }
                defer { Glibc.close(sub) }
                if let id = mountID(sub), id != mount { return child }
                return try firstMount(in: sub, display: child, mount: mount)
            }
            if let found { return found }
        }
        return nil
    }

    /// Removes everything in the directory open as `fd`, depth first, through descriptors.
    private func emptyDirectory(_ fd: Int32, display: String, mount: UInt64?) throws(SystemCallError) {
        // A directory the restore made read-only (its recorded mode) must be writable to be emptied.
        if let info = try? status(fd, path: display), info.st_mode & 0o700 != 0o700 { fchmod(fd, 0o700) }
        for name in try names(inDirectory: fd, path: display) {
            let child = display + "/" + String(decoding: name, as: UTF8.self)
            try name.withCString { (cName) throws(SystemCallError) in
                try check(.unlink, child)
                if unlinkat(fd, cName, 0) == 0 || errno == ENOENT { return }
                guard errno == EISDIR || errno == EPERM else { throw fail(.unlink, child) }
                var sub = openat(fd, cName, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                if sub < 0 && errno == EACCES {
                    fchmodat(fd, cName, 0o700, 0)
                    sub = openat(fd, cName, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                }
                guard sub >= 0 else { throw fail(.open, child) }
                defer { Glibc.close(sub) }
                // Another mount (a bind mount, a tmpfs) is never entered: its files are not ours to remove.
                if let mount, let id = mountID(sub), id != mount { throw SystemCallError(operation: "unlink", path: child, code: EBUSY) }
                try emptyDirectory(sub, display: child, mount: mount)
                if unlinkat(fd, cName, AT_REMOVEDIR) != 0 && errno != ENOENT { throw fail(.unlink, child) }
            }
        }
    }
}
