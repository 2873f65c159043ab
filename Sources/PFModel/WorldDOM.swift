/// A browser DOM snapshot saved as HTML.
public struct WorldDOM: Codable, Hashable, Sendable {
    /// The configured path of the HTML file.
    public var path: String
    /// The blob holding it.
    public var digest: Digest
    /// Its size in bytes.
    public var size: Int64

    /// A DOM record.
    public init(path: String, digest: Digest, size: Int64) {
        self.path = path
        self.digest = digest
        self.size = size
    }
}
