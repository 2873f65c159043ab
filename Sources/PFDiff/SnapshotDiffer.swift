import PFModel
import PFStore

/// Compares two snapshots of a store, reading what it must of their layer blobs (tree indexes,
/// packs whose files must be compared, cache indexes, ledgers, conversations) through the store's
/// verified reader. Blobs the two snapshots share are never read.
///
/// Memory is bounded: indexes and packs of at most 64 MiB are read whole (a larger one is noted
/// and its detail left out), ledgers and conversations are streamed line by line, a line longer
/// than 1 MiB is compared by digest, and at most 100,000 lines a side are listed.
///
/// ```swift
/// let differ = SnapshotDiffer(store: try SnapshotStore(opening: ".pfstore"))
/// let diff = try differ.diff(from: try store.resolve("agent~1"), to: try store.resolve("agent"))
/// ```
public struct SnapshotDiffer {
    /// The store both snapshots are in.
    public let store: SnapshotStore

    /// A differ reading `store`.
    public init(store: SnapshotStore) {
        self.store = store
    }

    /// Compares snapshot `a` with snapshot `b`.
    ///
    /// - Throws: ``StoreError`` when a manifest or a blob that must be read is missing, does not
    ///   hash to its digest, or has another size than its descriptor (a damaged store). A blob
    ///   that verifies but is not in the format expected is not an error: the layer's `notes` say
    ///   what was not compared.
    public func diff(from a: Digest, to b: Digest) throws(StoreError) -> SnapshotDiff {
        let old = try store.snapshot(a).manifest, new = try store.snapshot(b).manifest
        let summaries = zip(old.layerSummaries, new.layerSummaries).map { (from: $0, to: $1) }
        func layer(_ index: Int, changed: Bool) -> LayerDiff {
            LayerDiff(kind: summaries[index].from.kind, changed: changed, from: summaries[index].from, to: summaries[index].to)
        }
        let model = ModelDiff(layer(0, changed: old.model != new.model), from: old.model.content, to: new.model.content)
        let cache = try CacheDiff.compare(layer(1, changed: old.cache != new.cache), from: old.cache, to: new.cache, store: store)
        let world = try WorldDiff.compare(layer(2, changed: old.world != new.world), from: old.world, to: new.world, store: store)
        func history<Content>(_ index: Int, _ old: Layer<Content>, _ new: Layer<Content>, count: (Content) -> Int,
                              blob: (Content) -> Digest) throws(StoreError) -> LinesDiff {
            try LinesDiff.compare(
                layer(index, changed: old != new), count: Change(from: count(old.content), to: count(new.content)),
                blobs: Change(from: LayerBlob(blob(old.content), in: old.blobs), to: LayerBlob(blob(new.content), in: new.blobs)),
                store: store)
        }
        let effects = try history(3, old.effects, new.effects, count: \.entryCount, blob: \.ledger)
        let trace = try history(4, old.trace, new.trace, count: \.messageCount, blob: \.messages)
        func side(_ id: Digest, _ manifest: Manifest) -> SnapshotDiff.Side {
            .init(id: id, createdAt: manifest.createdAt, agent: manifest.agent, parents: manifest.parents)
        }
        return SnapshotDiff(from: side(a, old), to: side(b, new), model: model, cache: cache, world: world, effects: effects, trace: trace)
    }
}
