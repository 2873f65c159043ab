import PFModel

/// A committed snapshot and how each layer's capture went.
public struct SnapshotResult: Sendable {
    /// The content id.
    public let id: Digest
    /// The committed manifest.
    public let manifest: Manifest
    /// Per layer, in manifest order.
    public let layers: [LayerReport]

    /// One layer's capture.
    public struct LayerReport: Sendable {
        public let kind: LayerKind
        public let plugin: PluginRef
        public let file: String
        public let blobCount: Int
        public let bytes: Int64
        public let milliseconds: Int64
    }
}
