import PFModel

/// A snapshot read back from the store: its content id, its root descriptor, the assembled pfhost
/// manifest and every blob it reaches.
///
/// Whatever the layout beneath (a format-2 snapshot index or a format-1 snapshot manifest, see
/// `docs/store-format.md`), ``manifest`` is the pfhost manifest of the original design: five typed
/// layers, parents, agent and creation time.
public struct Snapshot: Hashable, Sendable {
    /// The content id: the digest of the root document.
    public let id: Digest
    /// The root's descriptor: `application/vnd.oci.image.index.v1+json` for a snapshot index
    /// (format 2), `application/vnd.oci.image.manifest.v1+json` for a snapshot manifest (format 1).
    public let root: OCIDescriptor
    /// The snapshot itself.
    public let manifest: Manifest
    /// Every blob the snapshot reaches by descriptors, each once, root first: its documents and its
    /// layers' blobs. This is what a copy must move and what `gc` keeps.
    public let closure: [OCIDescriptor]
    /// Each layer's JSON, canonically encoded (a format-2 layer config; for format 1, its member of the
    /// snapshot config), fields ``manifest``'s types do not know included: what a plugin's `restore`
    /// is given.
    public let layerJSON: [LayerKind: [UInt8]]

    /// A snapshot read from `root`.
    public init(root: OCIDescriptor, manifest: Manifest, closure: [OCIDescriptor], layerJSON: [LayerKind: [UInt8]]) {
        id = root.digest
        self.root = root
        self.manifest = manifest
        self.closure = closure
        self.layerJSON = layerJSON
    }

    /// The store format that wrote it: 2 for a snapshot index, 1 for a snapshot manifest.
    public var format: Int { root.mediaType == MediaType.ociIndex ? 2 : 1 }
}
