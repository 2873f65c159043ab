/// An OCI content descriptor (image-spec `descriptor.md`), as used in `index.json` and in
/// OCI manifests.
public struct OCIDescriptor: Codable, Hashable, Sendable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int64
    public var artifactType: String?
    public var annotations: [String: String]?

    /// A descriptor.
    public init(mediaType: String, digest: Digest, size: Int64, artifactType: String? = nil,
                annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.artifactType = artifactType
        self.annotations = annotations
    }

    /// The tag this descriptor carries in `index.json`, if any.
    public var refName: String? { annotations?[AnnotationKey.refName] }
}
