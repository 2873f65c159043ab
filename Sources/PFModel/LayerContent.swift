/// The fields of one kind of layer beyond those every layer has.
///
/// A conforming type is encoded into the same JSON object as ``Layer``'s common fields, so
/// its coding keys must not be `kind`, `plugin`, `blobs` or `annotations`.
public protocol LayerContent: Codable, Hashable, Sendable {
    /// The kind of layer this content belongs to.
    static var kind: LayerKind { get }
    /// Every blob the content refers to, each of which the layer's `blobs` must list. Only the
    /// fields that are references count: text the agent controls (an environment value, an
    /// annotation, a message id) may hold a string that looks like a digest.
    var blobReferences: [Digest] { get }
}
