/// The pfhost manifest: what a snapshot is. Stored as the OCI manifest's config blob.
///
/// ```json
/// {"agent": {...}, "cache": {...}, "created_at": "2026-11-27T20:25:44Z", "effects": {...},
///  "media_type": "application/vnd.pfhost.snapshot.config.v1+json", "model": {...},
///  "parents": ["sha256:…"], "schema_version": 1, "trace": {...}, "world": {...}}
/// ```
public struct Manifest: Codable, Hashable, Sendable {
    /// The schema version this type reads and writes.
    public static let currentSchemaVersion = 1

    /// Always 1.
    public var schemaVersion: Int
    /// Always ``MediaType/snapshotConfig``.
    public var mediaType: String
    /// The agent the snapshot is of.
    public var agent: Agent
    /// The five layers.
    public var model: ModelLayer
    public var cache: CacheLayer
    public var world: WorldLayer
    public var effects: EffectsLayer
    public var trace: TraceLayer
    /// When the snapshot was taken, RFC 3339 in UTC (see ``Timestamp``).
    public var createdAt: String
    /// The content ids of the snapshots this one follows.
    public var parents: [Digest]

    /// A manifest of schema version 1.
    public init(agent: Agent, model: ModelLayer, cache: CacheLayer, world: WorldLayer, effects: EffectsLayer,
                trace: TraceLayer, createdAt: String, parents: [Digest]) {
        schemaVersion = Self.currentSchemaVersion
        mediaType = MediaType.snapshotConfig
        self.agent = agent
        self.model = model
        self.cache = cache
        self.world = world
        self.effects = effects
        self.trace = trace
        self.createdAt = createdAt
        self.parents = parents
    }

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version", mediaType = "media_type", agent
        case model, cache, world, effects, trace
        case createdAt = "created_at", parents
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        schemaVersion = try container.decode(Int.self, forKey: .schemaVersion)
        guard schemaVersion == Self.currentSchemaVersion else {
            throw DecodingError.dataCorruptedError(
                forKey: .schemaVersion, in: container,
                debugDescription: "schema_version \(schemaVersion) is not supported (this pfhost reads \(Self.currentSchemaVersion))")
        }
        mediaType = try container.decode(String.self, forKey: .mediaType)
        guard mediaType == MediaType.snapshotConfig else {
            throw DecodingError.dataCorruptedError(
                forKey: .mediaType, in: container,
                debugDescription: "media_type '\(mediaType)' is not \(MediaType.snapshotConfig)")
        }
        agent = try container.decode(Agent.self, forKey: .agent)
        model = try container.decode(ModelLayer.self, forKey: .model)
        cache = try container.decode(CacheLayer.self, forKey: .cache)
        world = try container.decode(WorldLayer.self, forKey: .world)
        effects = try container.decode(EffectsLayer.self, forKey: .effects)
        trace = try container.decode(TraceLayer.self, forKey: .trace)
        createdAt = try container.decode(String.self, forKey: .createdAt)
        parents = try container.decode([Digest].self, forKey: .parents)
    }

    /// The plugin, blobs and annotations of each layer, in manifest order.
    public var layerSummaries: [LayerSummary] {
        [
            LayerSummary(kind: .model, plugin: model.plugin, blobs: model.blobs, annotations: model.annotations),
            LayerSummary(kind: .cache, plugin: cache.plugin, blobs: cache.blobs, annotations: cache.annotations),
            LayerSummary(kind: .world, plugin: world.plugin, blobs: world.blobs, annotations: world.annotations),
            LayerSummary(kind: .effects, plugin: effects.plugin, blobs: effects.blobs, annotations: effects.annotations),
            LayerSummary(kind: .trace, plugin: trace.plugin, blobs: trace.blobs, annotations: trace.annotations),
        ]
    }

    /// The canonical JSON of the layer of `kind` (what a format-2 store keeps as its layer config).
    ///
    /// - Throws: ``CanonicalJSONError`` when the layer has no canonical form.
    public func encodedLayer(_ kind: LayerKind) throws -> [UInt8] {
        switch kind {
        case .model: try CanonicalJSON.encode(model)
        case .cache: try CanonicalJSON.encode(cache)
        case .world: try CanonicalJSON.encode(world)
        case .effects: try CanonicalJSON.encode(effects)
        case .trace: try CanonicalJSON.encode(trace)
        }
    }
}
