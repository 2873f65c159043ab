import PFSystem

/// The names in a directory.
public enum DirectoryListing {
    /// Every name in `directory` except `.` and `..`, sorted by their bytes (names that are not
    /// UTF-8 are decoded with replacement characters; walk a tree through ``RootDirectory`` to keep
    /// every byte).
    public static func names(in directory: String) throws(PluginError) -> [String] {
        do {
            return try SystemCalls().listDirectory(directory).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        } catch {
            throw .io("\(directory): cannot be listed: \(error.reason)")
        }
    }
}
