import PFModel

/// One snapshot of a store's history: its root descriptor and creation time, as the journal (or
/// `index.json`) records them, without reading the snapshot.
public struct HistoryEntry: Hashable, Sendable {
    /// The snapshot's root: its digest is the content id.
    public let root: OCIDescriptor
    /// When it was taken (RFC 3339 UTC), or empty when nothing recorded it.
    public let created: String

    /// The content id.
    public var id: Digest { root.digest }

    /// An entry.
    public init(root: OCIDescriptor, created: String) {
        self.root = root
        self.created = created
    }
}
