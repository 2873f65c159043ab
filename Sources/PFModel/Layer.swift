/// A layer descriptor: one layer of a snapshot, as a plugin hands it to the host and as the
/// manifest records it.
///
/// Every layer has `kind`, `plugin`, `blobs` (every blob the layer needs) and `annotations`;
/// the rest of its JSON object is `Content`, the fields of its kind:
///
/// ```json
/// {"kind": "effects", "plugin": {"id": "org.example.effects", "version": "1.0.0"},
///  "blobs": [{"media_type": "application/x-ndjson", "digest": "sha256:…", "size": 812}],
///  "annotations": {}, "ledger": "sha256:…", "entry_count": 4, "head": "…", "pending_count": 1}
/// ```
///
/// Decoding fails when `kind` is not `Content.kind`. Fields not in the schema are ignored
/// (and not kept): `annotations` is the place for extra metadata.
public struct Layer<Content: LayerContent>: Codable, Hashable, Sendable {
    /// Always `Content.kind`.
    public var kind: LayerKind { Content.kind }
    /// The plugin that captured the layer; nil only before the host fills it in.
    public var plugin: PluginRef?
    /// Every blob the layer needs.
    public var blobs: [Descriptor]
    /// Free-form string metadata.
    public var annotations: [String: String]
    /// The fields of this kind of layer.
    public var content: Content

    /// A layer.
    public init(plugin: PluginRef? = nil, blobs: [Descriptor], annotations: [String: String] = [:], content: Content) {
        self.plugin = plugin
        self.blobs = blobs
        self.annotations = annotations
        self.content = content
    }

    enum CodingKeys: String, CodingKey {
        case kind, plugin, blobs, annotations
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try container.decode(String.self, forKey: .kind)
        guard kind == Content.kind.rawValue else {
            throw DecodingError.dataCorruptedError(
                forKey: .kind, in: container,
                debugDescription: "layer kind is '\(kind)', expected '\(Content.kind.rawValue)'")
        }
        plugin = try container.decodeIfPresent(PluginRef.self, forKey: .plugin)
        blobs = try container.decode([Descriptor].self, forKey: .blobs)
        annotations = try container.decodeIfPresent([String: String].self, forKey: .annotations) ?? [:]
        content = try Content(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encodeIfPresent(plugin, forKey: .plugin)
        try container.encode(blobs, forKey: .blobs)
        try container.encode(annotations, forKey: .annotations)
        try content.encode(to: encoder)
    }
}

/// The model layer: weights and adapters.
public typealias ModelLayer = Layer<ModelContent>
/// The cache layer: the paged KV cache.
public typealias CacheLayer = Layer<CacheContent>
/// The world layer: filesystem, environment, processes, browser DOM.
public typealias WorldLayer = Layer<WorldContent>
/// The effects layer: the ledger of side effects.
public typealias EffectsLayer = Layer<EffectsContent>
/// The trace layer: chat and tool messages.
public typealias TraceLayer = Layer<TraceContent>
