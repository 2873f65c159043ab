import PFModel

/// What `list` shows of a snapshot, read from its root alone plus what its layer manifests reach
/// (each layer checked once, as ``SnapshotStore/closure(of:cache:)`` checks it): no layer
/// decoded again for each snapshot that shares it.
///
/// ```swift
/// var cache: [Digest: [OCIDescriptor]] = [:]
/// let summary = try store.summary(of: id, cache: &cache)
/// print(summary.createdAt, summary.closure.count)
/// ```
public struct SnapshotSummary: Sendable {
    /// The root's descriptor.
    public let root: OCIDescriptor
    /// The agent the snapshot records.
    public let agent: Agent
    /// Its creation time, as the snapshot itself records it.
    public let createdAt: String
    /// Its parents, first parent first.
    public let parents: [Digest]
    /// Every blob it reaches, each once, root first.
    public let closure: [OCIDescriptor]
    /// Its layer manifests (format 2; none for a snapshot manifest): the closure is the root and
    /// what each of them reaches, which the cache passed to ``SnapshotStore/summary(of:cache:)`` holds.
    public let layerManifests: [Digest]

    /// The store format that wrote it: 2 for a snapshot index, 1 for a snapshot manifest.
    public var format: Int { root.mediaType == MediaType.ociIndex ? 2 : 1 }
}
