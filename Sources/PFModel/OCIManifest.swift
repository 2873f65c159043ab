/// An OCI image manifest (image-spec `manifest.md`): how a snapshot appears to OCI tools.
///
/// `config` is the pfhost ``Manifest`` blob and `layers` lists every blob of every layer,
/// so registries and copy tools move a snapshot whole.
public struct OCIManifest: Codable, Hashable, Sendable {
    public var schemaVersion: Int
    public var mediaType: String
    public var artifactType: String?
    public var config: OCIDescriptor
    public var layers: [OCIDescriptor]
    public var annotations: [String: String]?

    /// A schema-version-2 OCI image manifest.
    public init(artifactType: String?, config: OCIDescriptor, layers: [OCIDescriptor], annotations: [String: String]?) {
        schemaVersion = 2
        mediaType = MediaType.ociManifest
        self.artifactType = artifactType
        self.config = config
        self.layers = layers
        self.annotations = annotations
    }
}
