/// A blob a layer needs: what it is, its digest and its size in bytes.
///
/// In layer JSON: `{"media_type": "...", "digest": "sha256:...", "size": 123, "annotations": {...}}`.
public struct Descriptor: Codable, Hashable, Sendable {
    /// The blob's media type, e.g. `application/octet-stream`.
    public var mediaType: String
    /// The blob's SHA-256 digest.
    public var digest: Digest
    /// The blob's size in bytes.
    public var size: Int64
    /// Free-form metadata; omitted from JSON when nil.
    public var annotations: [String: String]?

    /// A descriptor.
    public init(mediaType: String, digest: Digest, size: Int64, annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.annotations = annotations
    }

    enum CodingKeys: String, CodingKey {
        case mediaType = "media_type", digest, size, annotations
    }
}
