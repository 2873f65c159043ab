import PFModel

/// A blob a layer's content names (a ledger, a tree index), with the size its descriptor in the
/// layer's `blobs` gives (nil when the layer does not list it, which `verify` reports).
struct LayerBlob {
    var digest: Digest
    var size: Int64?

    /// `digest`, with its size looked up among `blobs`.
    init(_ digest: Digest, in blobs: [Descriptor]) {
        self.digest = digest
        size = blobs.first { $0.digest == digest }?.size
    }
}
