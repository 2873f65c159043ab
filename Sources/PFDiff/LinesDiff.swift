import PFModel
import PFStore

/// How a JSON Lines history (the effects ledger, the trace's conversation) moved from one snapshot
/// to the next: the lines both share from the start, then what only the second has (`added`:
/// appended, when nothing was removed) and what only the first had (`removed`: history rewritten).
///
/// ```swift
/// let ledger = diff.effects
/// if ledger.rewritten { print("history rewritten after entry \(ledger.common)") }
/// ```
public struct LinesDiff: Sendable {
    /// What every layer's comparison says.
    public var layer: LayerDiff
    /// The entry (message) counts the two layers record.
    public var count: Change<Int>
    /// Lines the two share from the start.
    public var common: Int
    /// The second's lines after the shared ones: appended entries, unless `rewritten`.
    public var added: [LineSummary]
    /// The first's lines after the shared ones: history the second no longer has.
    public var removed: [LineSummary]
    /// Lines beyond ``maximumListed`` on each side, counted but not listed.
    public var unlisted: Change<Int>

    /// At most this many lines are listed on each side; the rest are counted.
    public static let maximumListed = 100_000
    /// Lines longer than this are compared by digest and not read.
    public static let maximumLineBytes = 1 << 20

    /// Whether the second snapshot's history is not the first's with lines appended.
    public var rewritten: Bool { !removed.isEmpty || unlisted.from > 0 }

    /// Compares the blobs `old` and `new` line by line (when they differ), streaming both.
    static func compare(_ layer: LayerDiff, count: Change<Int>, blobs: Change<LayerBlob>,
                        store: SnapshotStore) throws(StoreError) -> LinesDiff {
        var diff = LinesDiff(layer: layer, count: count, common: 0, added: [], removed: [], unlisted: Change(from: 0, to: 0))
        guard blobs.from.digest != blobs.to.digest else {
            diff.common = count.to
            return diff
        }
        var oldLines = try lines(blobs.from, store)
        var newLines = try lines(blobs.to, store)
        var oldLine = try oldLines.next(), newLine = try newLines.next()
        while let a = oldLine, let b = newLine, a.length == b.length, a.bytes == b.bytes, a.digest == b.digest {
            diff.common += 1
            oldLine = try oldLines.next()
            newLine = try newLines.next()
        }
        while let line = oldLine {
            if diff.removed.count < maximumListed { diff.removed.append(.of(line, kind: layer.kind)) } else { diff.unlisted.from += 1 }
            oldLine = try oldLines.next()
        }
        while let line = newLine {
            if diff.added.count < maximumListed { diff.added.append(.of(line, kind: layer.kind)) } else { diff.unlisted.to += 1 }
            newLine = try newLines.next()
        }
        return diff
    }

    private static func lines(_ blob: LayerBlob, _ store: SnapshotStore) throws(StoreError) -> BlobLines {
        let reader = try store.openBlob(blob.digest)
        try store.checkSize(of: reader, blob.size)
        return BlobLines(reader, keep: maximumLineBytes)
    }

    /// `{…layer, "count":{"from","to"},"common":N,"rewritten":B,"added":[…],"removed":[…],"unlisted":{…}}`.
    public var json: JSONValue {
        layer.json(adding: [
            "count": .object(["from": .int(Int64(count.from)), "to": .int(Int64(count.to))]),
            "common": .int(Int64(common)),
            "rewritten": .bool(rewritten),
            "added": .array(added.map(\.json)),
            "removed": .array(removed.map(\.json)),
            "unlisted": .object(["from": .int(Int64(unlisted.from)), "to": .int(Int64(unlisted.to))]),
        ])
    }
}
