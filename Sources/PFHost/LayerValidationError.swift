/// Why a layer handed to `set_layer` was refused.
struct LayerValidationError: Error, CustomStringConvertible {
    let description: String
    /// Whether the layer refused is the parent's layer unchanged: then the damage is the store's.
    var inParentLayer = false
    init(_ description: String) { self.description = description }
}
