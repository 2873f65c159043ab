import PFModel

/// How the model layer changed: its descriptive fields (name, format, provider, revision,
/// base URL), the base model's files by path, and the adapters by name.
public struct ModelDiff: Sendable {
    /// What every layer's comparison says.
    public var layer: LayerDiff
    /// Fields whose values differ, by their JSON name (`name`, `format`, `provider`, `revision`, `base_url`).
    public var fields: FieldChanges
    /// The base model's files, by path (changed: another digest or size).
    public var files: Changes<ModelFile>
    /// Adapters, by name (changed: another type, base model or any file).
    public var adapters: Changes<ModelAdapter>

    init(_ layer: LayerDiff, from old: ModelContent, to new: ModelContent) {
        self.layer = layer
        fields = FieldChanges([
            ("name", old.name, new.name), ("format", old.format, new.format), ("provider", old.provider, new.provider),
            ("revision", old.revision, new.revision), ("base_url", old.baseURL, new.baseURL),
        ])
        files = Self.files(from: old.files, to: new.files)
        adapters = Changes(from: Self.keyed(old.adapters, by: \.name), to: Self.keyed(new.adapters, by: \.name), order: <)
    }

    /// The files of `new` against those of `old`, by path (a path listed twice counts once).
    public static func files(from old: [ModelFile], to new: [ModelFile]) -> Changes<ModelFile> {
        Changes(from: keyed(old, by: \.path), to: keyed(new, by: \.path), order: <)
    }

    private static func keyed<Item>(_ items: [Item], by key: (Item) -> String) -> [String: Item] {
        Dictionary(items.map { (key($0), $0) }, uniquingKeysWith: { first, _ in first })
    }

    static func json(_ file: ModelFile) -> JSONValue {
        var object: [String: JSONValue] = ["path": .string(file.path), "size": .int(file.size)]
        if let digest = file.digest { object["digest"] = .string(digest.description) }
        if let chunks = file.chunks { object["chunks"] = .array(chunks.map { .string($0.description) }) }
        return .object(object)
    }

    /// The layer's JSON object with `fields`, `files` and `adapters`.
    public var json: JSONValue {
        layer.json(adding: [
            "fields": fields.json,
            "files": files.json(Self.json),
            "adapters": adapters.json { adapter in
                .object(["name": .string(adapter.name), "type": .string(adapter.type), "base_model": .string(adapter.baseModel),
                         "files": .array(adapter.files.map(Self.json))])
            },
        ])
    }
}
