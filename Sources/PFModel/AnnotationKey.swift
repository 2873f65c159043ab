/// Annotation keys pfhost writes into OCI descriptors.
public enum AnnotationKey {
    /// A tag's name on an `index.json` entry.
    public static let refName = "org.opencontainers.image.ref.name"
    /// The creation time on a snapshot's OCI manifest.
    public static let created = "org.opencontainers.image.created"
    /// The layer kinds (comma-separated, sorted) that use a blob, on an OCI layer descriptor.
    public static let layerKinds = "dev.pfhost.layer"
    /// The agent's kind, on a snapshot index.
    public static let agentKind = "dev.pfhost.agent.kind"
    /// The agent's version, on a snapshot index.
    public static let agentVersion = "dev.pfhost.agent.version"
    /// The agent's fingerprint, on a snapshot index.
    public static let agentFingerprint = "dev.pfhost.agent.fingerprint"
    /// A snapshot's parents' content ids joined by `,`, on a snapshot index (absent when none).
    public static let parents = "dev.pfhost.parents"
    /// The store format (`"2"`), on `index.json` itself.
    public static let storeFormat = "dev.pfhost.store.format"
    /// What a snapshot index is (`application/vnd.pfhost.snapshot.v2`), on the index itself: an
    /// image index's `artifactType` would do, but tools of image-spec 1.0 (skopeo 1.9) drop it.
    public static let snapshot = "dev.pfhost.snapshot"
}
