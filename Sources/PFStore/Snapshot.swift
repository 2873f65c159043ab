import PFModel

/// A snapshot read back from the store: its content id, its OCI manifest and its pfhost manifest.
public struct Snapshot: Hashable, Sendable {
    /// The content id: the digest of the OCI manifest.
    public let id: Digest
    /// How the snapshot appears to OCI tools.
    public let ociManifest: OCIManifest
    /// The snapshot itself.
    public let manifest: Manifest
}
