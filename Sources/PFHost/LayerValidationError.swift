/// Why a layer handed to `set_layer` was refused.
struct LayerValidationError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
