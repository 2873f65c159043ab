/// Annotation keys pfhost writes into OCI descriptors.
public enum AnnotationKey {
    /// A tag's name on an `index.json` entry.
    public static let refName = "org.opencontainers.image.ref.name"
    /// The creation time on a snapshot's OCI manifest.
    public static let created = "org.opencontainers.image.created"
    /// The layer kinds (comma-separated, sorted) that use a blob, on an OCI layer descriptor.
    public static let layerKinds = "dev.pfhost.layer"
}
