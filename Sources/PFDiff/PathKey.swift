/// A path's exact bytes as a dictionary key, hashed as one buffer (an array of bytes hashes byte by
/// byte, which made keying a 20,000-entry tree the largest cost of `diff`).
struct PathKey: Hashable {
    var bytes: [UInt8]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    /// Byte order, as the world plugin walks names.
    static func precedes(_ a: PathKey, _ b: PathKey) -> Bool {
        a.bytes.lexicographicallyPrecedes(b.bytes)
    }
}
