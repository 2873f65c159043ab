import PFModel

/// What differs between two snapshots, layer by layer: `pfhost diff A B`.
///
/// ```swift
/// let diff = try SnapshotDiffer(store: store).diff(from: a, to: b)
/// for file in diff.world.files.added { print(DisplayText.escaped(bytes: file.path)) }
/// if diff.effects.rewritten { print("the ledger's history was rewritten") }
/// print(String(decoding: CanonicalJSON.encode(diff.json), as: UTF8.self))
/// ```
public struct SnapshotDiff: Sendable {
    /// The first snapshot (`A`).
    public var from: Side
    /// The second snapshot (`B`).
    public var to: Side
    /// The model layer.
    public var model: ModelDiff
    /// The KV-cache layer.
    public var cache: CacheDiff
    /// The world layer.
    public var world: WorldDiff
    /// The effects ledger: entries appended, or history rewritten.
    public var effects: LinesDiff
    /// The trace: messages appended, or history rewritten.
    public var trace: LinesDiff

    /// The version of ``json``'s shape, in its `schema` field.
    public static let schema = "pfhost.diff/1"

    /// One of the two snapshots.
    public struct Side: Sendable {
        /// The snapshot's content id.
        public var id: Digest
        /// When it was taken (RFC 3339, UTC).
        public var createdAt: String
        /// The agent it is of.
        public var agent: Agent
        /// Its parents' content ids.
        public var parents: [Digest]

        var json: JSONValue {
            .object([
                "id": .string(id.description), "created_at": .string(createdAt),
                "agent": .object(["kind": .string(agent.kind), "version": .string(agent.version), "fingerprint": .string(agent.fingerprint)]),
                "parents": .array(parents.map { .string($0.description) }),
            ])
        }
    }

    /// The comparison of every layer, in manifest order.
    public var layers: [LayerDiff] { [model.layer, cache.layer, world.layer, effects.layer, trace.layer] }

    /// The whole comparison (shape in docs/cli.md):
    /// `{"schema":"pfhost.diff/1","from":{…},"to":{…},"layers":{"model":{…},…}}`.
    public var json: JSONValue {
        .object([
            "schema": .string(Self.schema),
            "from": from.json,
            "to": to.json,
            "layers": .object([
                "model": model.json, "cache": cache.json, "world": world.json, "effects": effects.json, "trace": trace.json,
            ]),
        ])
    }
}
