import PFModel

/// What a snapshot says about itself without its layers: who, when, and after what.
///
/// Read by ``SnapshotStore/header(_:)`` from the snapshot's root document alone (format 2; a
/// format-1 snapshot is read whole), so that `log` and `list` cost one small document per
/// snapshot, not five layers.
public struct SnapshotHeader: Hashable, Sendable {
    /// The content id: the digest of the root document.
    public let id: Digest
    /// The agent that was snapshotted.
    public let agent: Agent
    /// When, as RFC 3339 UTC.
    public let createdAt: String
    /// The parent snapshots, first parent first.
    public let parents: [Digest]
    /// The store format that wrote it: 2 for a snapshot index, 1 for a snapshot manifest.
    public let format: Int

    /// A header of these parts.
    public init(id: Digest, agent: Agent, createdAt: String, parents: [Digest], format: Int) {
        self.id = id
        self.agent = agent
        self.createdAt = createdAt
        self.parents = parents
        self.format = format
    }
}
