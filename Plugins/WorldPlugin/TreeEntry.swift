#if canImport(Glibc)
import Glibc
#endif

/// One path under the captured root, as `lstat` saw it (symlinks are never followed).
///
/// Paths and link targets are bytes, exactly as the kernel gave them: a name need not be UTF-8,
/// and decoding it would merge `bad\xff` with `bad\u{FFFD}` and lose a file.
struct TreeEntry {
    enum Kind: String { case file, directory, symlink, other }

    /// The path relative to the root, components joined by `/`.
    let path: [UInt8]
    let kind: Kind
    let mode: UInt32
    let size: Int64
    let device: UInt64
    let inode: UInt64
    let mtimeNanoseconds: Int64
    let ctimeNanoseconds: Int64
    let target: [UInt8]?

    init(path: [UInt8], status info: stat, target: [UInt8]?) {
        self.path = path
        switch info.st_mode & S_IFMT {
        case S_IFREG: kind = .file
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symlink
        default: kind = .other
        }
        mode = UInt32(info.st_mode & 0o7777)
        size = kind == .file ? Int64(info.st_size) : 0
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        mtimeNanoseconds = Self.nanoseconds(info.st_mtim)
        ctimeNanoseconds = Self.nanoseconds(info.st_ctim)
        self.target = target
    }

    /// A timestamp in nanoseconds since 1970, saturated at the ends of Int64 (years before 1678 or
    /// after 2262) rather than overflowing: such a file still snapshots, its time clamped.
    static func nanoseconds(_ time: timespec) -> Int64 {
        let (seconds, overflow) = Int64(time.tv_sec).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return time.tv_sec < 0 ? .min : .max }
        let (total, overflowAdding) = seconds.addingReportingOverflow(Int64(time.tv_nsec))
        return overflowAdding ? .max : total
    }

    /// The path as shown in messages (bytes that are not UTF-8 replaced).
    var displayPath: String { String(decoding: path, as: UTF8.self) }
}
