/// An adapter applied to the base model.
public struct ModelAdapter: Codable, Hashable, Sendable {
    /// The adapter's name (its directory name).
    public var name: String
    /// The base model the adapter was trained for.
    public var baseModel: String
    /// The adapter type, e.g. `LORA`.
    public var type: String
    /// The adapter's files.
    public var files: [ModelFile]

    /// An adapter.
    public init(name: String, baseModel: String, type: String, files: [ModelFile]) {
        self.name = name
        self.baseModel = baseModel
        self.type = type
        self.files = files
    }

    enum CodingKeys: String, CodingKey {
        case name, baseModel = "base_model", type, files
    }
}
