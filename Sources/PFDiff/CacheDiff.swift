import PFModel
import PFStore

/// How the cache layer changed: sequences by id, and the distinct pages (by key) only one of
/// the two holds, read from the two cache indexes.
public struct CacheDiff: Sendable {
    /// What every layer's comparison says.
    public var layer: LayerDiff
    /// Fields whose values differ: `model_fingerprint`, `dtype`, `tokens_per_page`, `num_layers`,
    /// `num_heads`, `head_dim`, `page_bytes`, `hosted`.
    public var fields: FieldChanges
    /// Sequences by id (changed: other counts, or other page keys, i.e. other tokens).
    public var sequences: Changes<CacheSequenceRecord>
    /// Keys of pages only the second holds, sorted; nil when the indexes were not compared.
    public var pagesAdded: [String]?
    /// Keys of pages only the first holds, sorted; nil when the indexes were not compared.
    public var pagesRemoved: [String]?

    /// The largest cache index `diff` reads (the same bound as a tree index: two parsed stay under about 1 GiB).
    public static let maximumIndexBytes = 32 << 20

    static func compare(_ layer: LayerDiff, from old: CacheLayer, to new: CacheLayer, store: SnapshotStore) throws(StoreError) -> CacheDiff {
        var layer = layer
        var oldIndex: CacheIndex?, newIndex: CacheIndex?
        if old.content.index != new.content.index, let oldDigest = old.content.index, let newDigest = new.content.index {
            oldIndex = try read(LayerBlob(oldDigest, in: old.blobs), side: "A", store: store, notes: &layer.notes)
            newIndex = try read(LayerBlob(newDigest, in: new.blobs), side: "B", store: store, notes: &layer.notes)
        }
        func records(_ content: CacheContent, _ index: CacheIndex?) -> [String: CacheSequenceRecord] {
            var records: [String: CacheSequenceRecord] = [:]
            for sequence in content.sequences where records[sequence.id] == nil {
                records[sequence.id] = CacheSequenceRecord(id: sequence.id, tokenCount: sequence.tokenCount, pageCount: sequence.pageCount,
                                                           pageKeys: index?.sequences[sequence.id])
            }
            return records
        }
        let bothRead = oldIndex != nil && newIndex != nil
        let sequences = Changes(from: records(old.content, bothRead ? oldIndex : nil), to: records(new.content, bothRead ? newIndex : nil), order: <)
        let (a, b) = (old.content, new.content)
        let text = { (value: (any CustomStringConvertible)?) in value.map { $0.description } }
        let fields = FieldChanges([
            ("model_fingerprint", a.modelFingerprint, b.modelFingerprint), ("dtype", a.dtype, b.dtype),
            ("tokens_per_page", text(a.tokensPerPage), text(b.tokensPerPage)), ("num_layers", text(a.numLayers), text(b.numLayers)),
            ("num_heads", text(a.numHeads), text(b.numHeads)), ("head_dim", text(a.headDim), text(b.headDim)),
            ("page_bytes", text(a.pageBytes), text(b.pageBytes)), ("hosted", text(a.isHosted), text(b.isHosted)),
        ])
        var diff = CacheDiff(layer: layer, fields: fields, sequences: sequences)
        if let oldIndex, let newIndex {
            diff.pagesAdded = newIndex.pages.subtracting(oldIndex.pages).sorted()
            diff.pagesRemoved = oldIndex.pages.subtracting(newIndex.pages).sorted()
        } else if old.content.index == new.content.index {
            (diff.pagesAdded, diff.pagesRemoved) = ([], [])
        } else if old.content.index == nil || new.content.index == nil {
            diff.layer.notes.append("pages not compared: \(old.content.index == nil ? "A" : "B")'s cache is hosted (no index)")
        }
        return diff
    }

    private static func read(_ blob: LayerBlob, side: String, store: SnapshotStore, notes: inout [String]) throws(StoreError) -> CacheIndex? {
        try store.readFormat(blob, what: "\(side)'s cache index", loss: "pages not compared", limit: maximumIndexBytes, notes: &notes,
                             parse: CacheIndex.init)
    }

    /// The layer's JSON object with `sequences` and `pages` (`null` when not compared).
    public var json: JSONValue {
        var pages = JSONValue.null
        if let pagesAdded, let pagesRemoved {
            pages = .object([
                "added": .int(Int64(pagesAdded.count)), "removed": .int(Int64(pagesRemoved.count)),
                "added_keys": .array(pagesAdded.map { .string($0) }), "removed_keys": .array(pagesRemoved.map { .string($0) }),
            ])
        }
        return layer.json(adding: ["fields": fields.json, "sequences": sequences.json(\.json), "pages": pages])
    }
}
