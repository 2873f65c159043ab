/// The names in one directory, held in one buffer as C strings: what a tree walk needs of a
/// directory without an allocation per name.
///
/// Names are bytes as the kernel gave them (none is `.` or `..`), each followed by a NUL, so each
/// can be handed to `fstatat` or `openat` as it is.
public struct DirectoryNames: Sendable {
    /// Every name, each followed by a NUL.
    public private(set) var bytes: [UInt8] = []
    /// Where each name starts in ``bytes``, in the order they are kept.
    public private(set) var starts: [Int] = []

    /// No names.
    public init() {}

    /// The number of names.
    public var count: Int { starts.count }

    /// Adds the NUL-terminated name at `name`, of `length` bytes.
    mutating func append(_ name: UnsafePointer<UInt8>, length: Int) {
        starts.append(bytes.count)
        bytes.append(contentsOf: UnsafeBufferPointer(start: name, count: length))
        bytes.append(0)
    }

    /// The length of the name starting at `start`.
    public func length(at start: Int) -> Int {
        bytes.withUnsafeBufferPointer { buffer in strlen(UnsafeRawPointer(buffer.baseAddress! + start).assumingMemoryBound(to: CChar.self)) }
    }

    /// Sorts the names by their bytes (a name before every longer name it begins).
    public mutating func sort() {
        bytes.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            // strcmp compares unsigned bytes and stops at the NUL, which sorts before every byte.
            starts.sort { strcmp(base + $0, base + $1) < 0 }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
