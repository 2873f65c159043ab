/// An OCI image index (image-spec `image-index.md`): a store's `index.json`.
public struct OCIIndex: Codable, Hashable, Sendable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var artifactType: String?
    public var manifests: [OCIDescriptor]
    public var annotations: [String: String]?

    /// An index listing `manifests`.
    public init(manifests: [OCIDescriptor], artifactType: String? = nil, annotations: [String: String]? = nil) {
        schemaVersion = 2
        mediaType = MediaType.ociIndex
        self.artifactType = artifactType
        self.manifests = manifests
        self.annotations = annotations
    }
}
