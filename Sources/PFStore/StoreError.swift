import PFModel
import PFSystem

/// Why a store operation failed. Every case names the file or reference involved and, where
/// there is one, what the user can do.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    /// The directory is not a pfhost store.
    case notAStore(path: String, reason: String)
    /// A file in the store is damaged.
    case corrupt(file: String, reason: String)
    /// A system call failed during `step`.
    case io(step: String, SystemCallError)
    /// No snapshot matches the reference.
    case notFound(reference: String, store: String)
    /// No tag has the name (`untag`).
    case noSuchTag(name: String, store: String)
    /// A digest prefix matches several snapshots.
    case ambiguous(reference: String, candidates: [Digest])
    /// A reference or tag that is not well formed.
    case invalidReference(String, reason: String)
    /// A reference whose syntax is wrong whatever the store holds (`main~x`, a count of first
    /// parents too large for any history): bad usage, not a missing snapshot.
    case malformedReference(String, reason: String)
    /// A blob the caller named is not in the store.
    case missingBlob(Digest, store: String)
    /// The tag names another snapshot (moving it needs `force`).
    case tagExists(String, id: Digest)
    /// A descriptor or path to store is a directory, FIFO, socket or device: only regular files are blobs.
    case notRegularFile(String)
    /// The snapshot `reference` names (`id`) has no parent, where a command compares with it.
    case noParent(reference: String, id: Digest, hint: String)

    public var description: String {
        switch self {
        case .notAStore(let path, let reason):
            "\(path) is not a pfhost store: \(reason) (create one with 'pfhost init --store \(path)' or pass --store)"
        case .corrupt(let file, let reason):
            "\(file) is corrupt: \(reason) (run 'pfhost verify --all' to list every problem)"
        case .io(let step, let error):
            "\(step) failed: \(error)"
        case .notFound(let reference, let store):
            "no snapshot '\(reference)' in \(store) (see 'pfhost log' or index.json for what it holds)"
        case .noSuchTag(let name, let store):
            "no tag '\(name)' in \(store) (see 'pfhost list' for the tags it holds)"
        case .ambiguous(let reference, let candidates):
            "'\(reference)' matches \(candidates.count) snapshots (\(candidates.map { String($0.hex.prefix(16)) }.joined(separator: ", "))): give more digits"
        case .invalidReference(let reference, let reason), .malformedReference(let reference, let reason):
            "invalid reference '\(reference)': \(reason)"
        case .missingBlob(let digest, let store):
            "blob \(digest) is not in \(store)"
        case .tagExists(let tag, let id):
            "tag '\(tag)' already names \(id); pass --force to move it"
        case .notRegularFile(let file):
            "\(file) is not a regular file (a directory, FIFO, socket or device?): only regular files are stored as blobs"
        case .noParent(let reference, let id, let hint):
            "snapshot '\(reference)' (\(id.hex.prefix(12))) has no parent to compare with; \(hint)"
        }
    }
}
