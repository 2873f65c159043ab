import PFModel

/// What `list` shows of a snapshot: its header (from its root) and every blob it reaches, read
/// with the root once and each layer manifest once however many snapshots share it.
///
/// ```swift
/// var cache: [Digest: [OCIDescriptor]] = [:]
/// let summary = try store.summary(of: id, cache: &cache, checkingLayers: false)
/// print(summary.header.createdAt, summary.closure.count)
/// ```
public struct SnapshotSummary: Sendable {
    /// Who, when, after what.
    public let header: SnapshotHeader
    /// The root's descriptor.
    public let root: OCIDescriptor
    /// Every blob it reaches, each once, root first.
    public let closure: [OCIDescriptor]
    /// Its layer manifests (format 2; none for a snapshot manifest): the closure is the root and
    /// what each of them reaches, which the cache passed to
    /// ``SnapshotStore/summary(of:cache:checkingLayers:)`` holds.
    public let layerManifests: [Digest]
}
