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

extension Sequence<Descriptor> {
    /// The sum of the blobs' sizes, saturated at the ends of `Int64`: a manifest read from a store
    /// may say anything, and adding what it says must not trap.
    public var totalSize: Int64 {
        var total: Int64 = 0
        for blob in self {
            let (sum, overflow) = total.addingReportingOverflow(blob.size)
            total = overflow ? (blob.size < 0 ? Int64.min : Int64.max) : sum
        }
        return total
    }
}
