/// The fields of one kind of layer beyond those every layer has.
///
/// A conforming type is encoded into the same JSON object as ``Layer``'s common fields, so
/// its coding keys must not be `kind`, `plugin`, `blobs` or `annotations`.
public protocol LayerContent: Codable, Hashable, Sendable {
    /// The kind of layer this content belongs to.
    static var kind: LayerKind { get }
}
