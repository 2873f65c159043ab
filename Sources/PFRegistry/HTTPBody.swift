import PFSystem

/// What a request sends: nothing, a few bytes in memory (manifests), or a range of an open file
/// (blobs), read piece by piece as the connection takes it so memory does not grow with its size.
///
/// A body can be sent again from its start (a retry after a dropped connection or a 401) because
/// a file range is read with `pread`, never by moving the descriptor.
enum HTTPBody {
    case none
    case bytes([UInt8])
    /// `count` bytes of `fd` from `offset`; `path` is what errors name.
    case file(fd: Int32, offset: Int64, count: Int64, path: String)

    /// The number of bytes sent.
    var count: Int64 {
        switch self {
        case .none: 0
        case .bytes(let bytes): Int64(bytes.count)
        case .file(_, _, let count, _): count
        }
    }

    /// Whether the body is a file range (a blob, sent at the connection's pace, under no deadline).
    var isFile: Bool {
        if case .file = self { return true }
        return false
    }
}
