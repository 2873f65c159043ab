import PFPluginKit
#if canImport(Glibc)
import Glibc
#endif

/// Lists every path under a root, depth first in byte order of names, without following
/// symlinks and skipping what matches an exclude pattern.
///
/// A pattern (fnmatch syntax) is matched against both the path relative to the root and the
/// entry's own name, so `*.tmp` and `build/cache` both work; an excluded directory is not entered.
/// Directories are read through descriptors (`openat`, `fstatat`), so no full path is built for
/// a system call.
struct TreeWalker {
    let root: String
    let excludes: [String]
    let host: PluginHost

    func walk() throws(PluginError) -> [TreeEntry] {
        var info = stat()
        guard lstat(root, &info) == 0 else { throw .io("\(root): \(String(cString: strerror(errno)))") }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw .invalid("\(root): world.root is not a directory") }
        let fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .io("\(root): cannot be opened: \(String(cString: strerror(errno)))") }
        var entries: [TreeEntry] = []
        let patterns = excludes.map { Array($0.utf8CString) }
        try walk(fd, relative: "", patterns: patterns, into: &entries)
        return entries
    }

    /// Lists the directory open as `fd` (and closes it).
    private func walk(_ fd: Int32, relative: String, patterns: [[CChar]], into entries: inout [TreeEntry]) throws(PluginError) {
        try host.checkCancelled()
        guard let dir = fdopendir(fd) else {
            close(fd)
            throw .io("\(root)/\(relative): cannot be listed: \(String(cString: strerror(errno)))")
        }
        defer { closedir(dir) }
        var names: [[CChar]] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(UnsafeBufferPointer(start: raw.baseAddress!.assumingMemoryBound(to: CChar.self), count: strlen(raw.baseAddress!.assumingMemoryBound(to: CChar.self)) + 1))
            }
            if name != [46, 0] && name != [46, 46, 0] { names.append(name) }
        }
        names.sort { $0.lexicographicallyPrecedes($1) { UInt8(bitPattern: $0) < UInt8(bitPattern: $1) } }
        for name in names {
            let text = String(decoding: name.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let child = relative.isEmpty ? text : relative + "/" + text
            if !patterns.isEmpty {
                let skip = child.withCString { path in
                    patterns.contains { fnmatch($0, path, 0) == 0 || fnmatch($0, name, 0) == 0 }
                }
                if skip { continue }
            }
            var info = stat()
            guard fstatat(dirfd(dir), name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
                // Deleted while we walked: the tree is what was there when we looked.
                if errno == ENOENT { continue }
                throw .io("\(root)/\(child): \(String(cString: strerror(errno)))")
            }
            var target: String?
            if info.st_mode & S_IFMT == S_IFLNK {
                var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let length = readlinkat(dirfd(dir), name, &buffer, buffer.count - 1)
                guard length >= 0 else { throw .io("\(root)/\(child): readlink failed: \(String(cString: strerror(errno)))") }
                target = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            let entry = TreeEntry(path: child, status: info, target: target)
            entries.append(entry)
            if entry.kind == .directory {
                let sub = openat(dirfd(dir), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard sub >= 0 else { throw .io("\(root)/\(child): cannot be opened: \(String(cString: strerror(errno)))") }
                try walk(sub, relative: child, patterns: patterns, into: &entries)
            }
        }
    }
}
