#if canImport(Glibc)
import Glibc
#endif

/// One path under the captured root, as `lstat` saw it (symlinks are never followed).
struct TreeEntry {
    enum Kind: String { case file, directory, symlink, other }

    let path: String
    let kind: Kind
    let mode: UInt32
    let size: Int64
    let device: UInt64
    let inode: UInt64
    let mtimeNanoseconds: Int64
    let ctimeNanoseconds: Int64
    let target: String?

    init(path: String, status info: stat, target: String?) {
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
        mtimeNanoseconds = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        ctimeNanoseconds = Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec)
        self.target = target
    }
}
