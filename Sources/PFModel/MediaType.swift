/// The media types pfhost writes and reads.
public enum MediaType {
    /// The pfhost manifest, stored as the OCI manifest's config blob.
    public static let snapshotConfig = "application/vnd.pfhost.snapshot.config.v1+json"
    /// The `artifactType` of every pfhost snapshot's OCI manifest.
    public static let snapshotArtifact = "application/vnd.pfhost.snapshot.v1"
    /// An OCI image manifest.
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    /// An OCI image index (`index.json`).
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    /// The OCI empty descriptor's media type (content `{}`), used as the only layer of a
    /// snapshot whose plugins stored no blob, since OCI manifests should list one layer.
    public static let ociEmpty = "application/vnd.oci.empty.v1+json"
    /// The `artifactType` of a format-2 snapshot's root, its snapshot index.
    public static let snapshotIndexArtifact = "application/vnd.pfhost.snapshot.v2"
    /// The `artifactType` of a format-2 layer manifest.
    public static let layerArtifact = "application/vnd.pfhost.layer.v1"
    /// A format-2 layer config: one layer object, canonical JSON.
    public static let layerConfig = "application/vnd.pfhost.layer.v1+json"
}
