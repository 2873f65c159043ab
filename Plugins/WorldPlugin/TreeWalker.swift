import PFPluginKit
#if canImport(Glibc)
import Glibc
#endif

/// Lists every path under a root, depth first in byte order of names, without following
/// symlinks and skipping what matches an exclude pattern.
///
/// A pattern (fnmatch syntax) is matched against both the path relative to the root and the
/// entry's own name, so `*.tmp` and `build/cache` both work; an excluded directory is not entered.
struct TreeWalker {
    let root: String
    let excludes: [String]
    let host: PluginHost

    func walk() throws(PluginError) -> [TreeEntry] {
        var info = stat()
        guard lstat(root, &info) == 0 else { throw .io("\(root): \(String(cString: strerror(errno)))") }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw .invalid("\(root): world.root is not a directory") }
        var entries: [TreeEntry] = []
        try walk(directory: root, relative: "", into: &entries)
        return entries
    }

    private func excluded(_ relative: String, name: String) -> Bool {
        excludes.contains { fnmatch($0, relative, 0) == 0 || fnmatch($0, name, 0) == 0 }
    }

    private func walk(directory: String, relative: String, into entries: inout [TreeEntry]) throws(PluginError) {
        try host.checkCancelled()
        guard let dir = opendir(directory) else {
            throw .io("\(directory): cannot be listed: \(String(cString: strerror(errno)))")
        }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { names.append(name) }
        }
        closedir(dir)
        for name in names.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            let path = directory + "/" + name
            let child = relative.isEmpty ? name : relative + "/" + name
            if excluded(child, name: name) { continue }
            var info = stat()
            guard lstat(path, &info) == 0 else {
                // Deleted while we walked: the tree is what was there when we looked.
                if errno == ENOENT { continue }
                throw .io("\(path): \(String(cString: strerror(errno)))")
            }
            var target: String?
            if info.st_mode & S_IFMT == S_IFLNK {
                var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let length = readlink(path, &buffer, buffer.count - 1)
                guard length >= 0 else { throw .io("\(path): readlink failed: \(String(cString: strerror(errno)))") }
                target = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            let entry = TreeEntry(path: child, status: info, target: target)
            entries.append(entry)
            if entry.kind == .directory { try walk(directory: path, relative: child, into: &entries) }
        }
    }
}
