/// What a model layer records: the model's name and format, each weight file and the adapters.
public struct ModelContent: LayerContent {
    public static let kind = LayerKind.model

    /// The model's name, e.g. `tiny-llama-2l`.
    public var name: String
    /// The weights' format, e.g. `safetensors`.
    public var format: String
    /// The base model's files.
    public var files: [ModelFile]
    /// Adapters (e.g. LoRA) applied on top of the base model.
    public var adapters: [ModelAdapter]

    /// A model layer's content.
    public init(name: String, format: String, files: [ModelFile], adapters: [ModelAdapter] = []) {
        self.name = name
        self.format = format
        self.files = files
        self.adapters = adapters
    }
}
