import PFModel

/// A layer as a plugin handed it back, decoded as its kind.
public enum CapturedLayer: Hashable, Sendable {
    case model(ModelLayer)
    case cache(CacheLayer)
    case world(WorldLayer)
    case effects(EffectsLayer)
    case trace(TraceLayer)

    /// The layer's kind.
    public var kind: LayerKind {
        switch self {
        case .model: .model
        case .cache: .cache
        case .world: .world
        case .effects: .effects
        case .trace: .trace
        }
    }

    /// Every blob the layer needs.
    public var blobs: [Descriptor] {
        switch self {
        case .model(let layer): layer.blobs
        case .cache(let layer): layer.blobs
        case .world(let layer): layer.blobs
        case .effects(let layer): layer.blobs
        case .trace(let layer): layer.blobs
        }
    }

    /// Every blob the layer's content refers to (``LayerContent/blobReferences``).
    public var blobReferences: [Digest] {
        switch self {
        case .model(let layer): layer.content.blobReferences
        case .cache(let layer): layer.content.blobReferences
        case .world(let layer): layer.content.blobReferences
        case .effects(let layer): layer.content.blobReferences
        case .trace(let layer): layer.content.blobReferences
        }
    }

    /// Decodes `json` as the typed layer of `kind`.
    static func decode(_ json: JSONValue, as kind: LayerKind) throws -> CapturedLayer {
        switch kind {
        case .model: .model(try CanonicalJSON.decode(ModelLayer.self, from: json))
        case .cache: .cache(try CanonicalJSON.decode(CacheLayer.self, from: json))
        case .world: .world(try CanonicalJSON.decode(WorldLayer.self, from: json))
        case .effects: .effects(try CanonicalJSON.decode(EffectsLayer.self, from: json))
        case .trace: .trace(try CanonicalJSON.decode(TraceLayer.self, from: json))
        }
    }
}
