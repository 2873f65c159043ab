#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The names in a directory, read with `opendir`/`readdir`.
public enum DirectoryListing {
    /// Every name in `directory` except `.` and `..`, sorted by their bytes.
    public static func names(in directory: String) throws(PluginError) -> [String] {
        guard let dir = opendir(directory) else {
            throw .io("\(directory): cannot be listed: \(String(cString: strerror(errno)))")
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}
