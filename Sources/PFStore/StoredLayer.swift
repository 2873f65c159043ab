import PFModel

/// One layer of a snapshot as the store holds it, read for a snapshot that builds on it.
public struct StoredLayer: Hashable, Sendable {
    /// The layer's JSON, canonically encoded, with the `plugin` stamp of the plugin that captured it.
    public let json: [UInt8]
    /// The blob that holds ``json`` byte for byte, when there is one: a format-2 layer config that
    /// is in canonical form, as pfhost writes them. A snapshot whose layer is unchanged (the same
    /// JSON, stamped by the same plugin) names this blob as its layer config instead of encoding and
    /// storing the layer again. Nil for a config in another form and for a format-1 snapshot.
    public let config: OCIDescriptor?
    /// Where in ``json`` the value of its `plugin` member is, when ``config`` is known.
    public let stamp: Range<Int>?
    /// The blob the layer was read from: its layer config (format 2), or the snapshot config that
    /// holds all five (format 1). What an error about the stored layer names.
    public let blob: Digest

    /// A stored layer.
    public init(json: [UInt8], config: OCIDescriptor?, stamp: Range<Int>?, blob: Digest) {
        self.json = json
        self.config = config
        self.stamp = stamp
        self.blob = blob
    }
}
