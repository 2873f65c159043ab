/// An OCI image index (image-spec `image-index.md`): a store's `index.json`.
public struct OCIIndex: Codable, Hashable, Sendable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var manifests: [OCIDescriptor]
    public var annotations: [String: String]?

    /// An index listing `manifests`.
    public init(manifests: [OCIDescriptor]) {
        schemaVersion = 2
        mediaType = MediaType.ociIndex
        self.manifests = manifests
        annotations = nil
    }
}
