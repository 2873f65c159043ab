import PFModel

/// Why a layer handed to `set_layer` was refused.
struct LayerValidationError: Error, CustomStringConvertible {
    let description: String
    /// Whether the layer refused is the parent's layer unchanged: then the damage is the store's.
    var inParentLayer = false
    /// The blob at fault, when the layer was refused for one (missing, or not of its listed size).
    var blob: Digest?
    init(_ description: String) { self.description = description }
}
