import PFModel

/// What the comparison of any two layers of one kind says, whatever the kind: whether the layer
/// changed at all, its plugin, the blobs only one of them needs, its annotations, and notes on
/// what could not be compared (a blob in a format this pfhost does not read, or too large).
public struct LayerDiff: Sendable {
    /// The layer's kind.
    public var kind: LayerKind
    /// Whether the two layers' JSON differ at all.
    public var changed: Bool
    /// The plugins, when they differ.
    public var plugin: Change<PluginRef?>?
    /// Blobs only the second layer needs.
    public var blobsAdded: [Descriptor]
    /// Blobs only the first layer needs.
    public var blobsRemoved: [Descriptor]
    /// Annotations added, removed or changed, by key.
    public var annotations: Changes<Annotation>
    /// What could not be compared, and why.
    public var notes: [String] = []

    /// An annotation: key and value.
    public struct Annotation: Sendable, Equatable {
        /// The annotation's key, e.g. `dev.pfhost.world.tree_key`.
        public var key: String
        /// Its value.
        public var value: String
    }

    /// Compares the fields every layer has.
    init(kind: LayerKind, changed: Bool, from old: LayerSummary, to new: LayerSummary) {
        self.kind = kind
        self.changed = changed
        plugin = old.plugin == new.plugin ? nil : Change(from: old.plugin, to: new.plugin)
        let oldDigests = Set(old.blobs.map(\.digest)), newDigests = Set(new.blobs.map(\.digest))
        blobsAdded = Self.distinct(new.blobs.filter { !oldDigests.contains($0.digest) })
        blobsRemoved = Self.distinct(old.blobs.filter { !newDigests.contains($0.digest) })
        func annotations(_ map: [String: String]) -> [String: Annotation] {
            Dictionary(uniqueKeysWithValues: map.map { ($0.key, Annotation(key: $0.key, value: $0.value)) })
        }
        self.annotations = Changes(from: annotations(old.annotations), to: annotations(new.annotations), order: <)
    }

    private static func distinct(_ blobs: [Descriptor]) -> [Descriptor] {
        var seen = Set<Digest>()
        return blobs.filter { seen.insert($0.digest).inserted }
    }

    /// This layer's JSON object with the fields of its kind added.
    func json(adding fields: [String: JSONValue]) -> JSONValue {
        func plugin(_ ref: PluginRef?) -> JSONValue {
            ref.map { .object(["id": .string($0.id), "version": .string($0.version)]) } ?? .null
        }
        func blobs(_ list: [Descriptor]) -> JSONValue {
            .object(["count": .int(Int64(list.count)), "bytes": .int(list.totalSize), "digests": .array(list.map { .string($0.digest.description) })])
        }
        var object: [String: JSONValue] = [
            "changed": .bool(changed),
            "plugin": self.plugin.map { .object(["from": plugin($0.from), "to": plugin($0.to)]) } ?? .null,
            "blobs": .object(["added": blobs(blobsAdded), "removed": blobs(blobsRemoved)]),
            "annotations": annotations.json { .object(["key": .string($0.key), "value": .string($0.value)]) },
            "notes": .array(notes.map { .string($0) }),
        ]
        for (key, value) in fields { object[key] = value }
        return .object(object)
    }
}

extension Changes {
    /// `{"added":[…],"removed":[…],"changed":[{"from":…,"to":…}]}`, each item as `item` writes it.
    public func json(_ item: (Item) -> JSONValue) -> JSONValue {
        .object([
            "added": .array(added.map(item)),
            "removed": .array(removed.map(item)),
            "changed": .array(changed.map { .object(["from": item($0.from), "to": item($0.to)]) }),
        ])
    }
}
