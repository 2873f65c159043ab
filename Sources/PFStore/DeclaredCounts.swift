import PFModel

/// Checks a model layer's files against its blobs (``ModelContent/problems(blobs:)``), and the
/// summary counts a layer declares against the blobs they summarise, where the blob's format makes
/// them checkable: a world tree index (`pfhost-world-tree`) against `entry_count` and
/// `total_bytes`; an NDJSON ledger (`application/x-ndjson`) against `entry_count` and
/// `pending_count`; an NDJSON trace against `message_count`. A blob of another format (a
/// third-party plugin's) is not judged.
///
/// ```swift
/// var checked = Set<String>()
/// for problem in try DeclaredCounts.problems(in: snapshot.manifest, store: store, checked: &checked) { print(problem.kind, problem.message) }
/// ```
enum DeclaredCounts {
    /// The media type of the reference plugins' ledgers and traces.
    static let lines = "application/x-ndjson"

    /// What a layer of `manifest` declares that its blobs contradict, one message per lie. `checked`
    /// holds what was checked already (a blob and the counts declared for it), so a layer shared by
    /// many snapshots is read once.
    static func problems(in manifest: Manifest, store: SnapshotStore, checked: inout Set<String>) throws(StoreError) -> [(kind: LayerKind, message: String)] {
        var problems: [(kind: LayerKind, message: String)] = []
        func differ(_ kind: LayerKind, _ field: String, declared: Int, actual: Int, _ what: String) {
            if declared != actual { problems.append((kind, "the layer declares \(field) \(declared), its blob holds \(actual) \(what)")) }
        }
        let model = manifest.model
        for problem in model.content.problems(blobs: model.blobs) {
            problems.append((.model, problem))
        }
        let world = manifest.world.content.tree
        if checked.insert("world \(world.index) \(world.entryCount) \(world.totalBytes)").inserted, let tree = try worldTree(manifest.world.content.tree.index, store: store) {
            differ(.world, "entry_count", declared: manifest.world.content.tree.entryCount, actual: tree.entries, "entries")
            if let bytes = tree.bytes, bytes != manifest.world.content.tree.totalBytes {
                problems.append((.world, "the layer declares total_bytes \(manifest.world.content.tree.totalBytes), its tree's files hold \(bytes)"))
            }
        }
        let effects = manifest.effects
        if effects.blobs.first(where: { $0.digest == effects.content.ledger })?.mediaType == lines,
           checked.insert("effects \(effects.content.ledger) \(effects.content.entryCount) \(effects.content.pendingCount)").inserted {
            let ledger = try countLines(effects.content.ledger, store: store, pending: true)
            differ(.effects, "entry_count", declared: effects.content.entryCount, actual: ledger.lines, "entries")
            if let pending = ledger.pending { differ(.effects, "pending_count", declared: effects.content.pendingCount, actual: pending, "pending entries") }
            // The head the next capture continues the chain from: the SHA-256 of the last line.
            let head = ledger.lastLine?.hex
            if effects.content.head != head {
                problems.append((.effects, "the layer declares head \(effects.content.head ?? "null"), the SHA-256 of its ledger's last line is \(head ?? "null (no lines)")"))
            }
        }
        let trace = manifest.trace
        if trace.blobs.first(where: { $0.digest == trace.content.messages })?.mediaType == lines,
           checked.insert("trace \(trace.content.messages) \(trace.content.messageCount)").inserted {
            differ(.trace, "message_count", declared: trace.content.messageCount, actual: try countLines(trace.content.messages, store: store, pending: false).lines, "messages")
        }
        return problems
    }

    /// The entries of a world tree index and the bytes of its files, or nil when the blob is not a
    /// `pfhost-world-tree` index (the bytes nil when a size is missing or the sum overflows).
    private static func worldTree(_ digest: Digest, store: SnapshotStore) throws(StoreError) -> (entries: Int, bytes: Int64?)? {
        let bytes = try store.readBlob(digest)
        guard bytes.first == UInt8(ascii: "{"), let value = try? JSONParser.parse(bytes), value["format"]?.stringValue == "pfhost-world-tree",
              case .array(let entries)? = value["entries"] else { return nil }
        var total: Int64? = 0
        for entry in entries where entry["type"]?.stringValue == "file" {
            guard case .int(let size)? = entry["size"], size >= 0, let sum = total else { total = nil; break }
            let (next, overflow) = sum.addingReportingOverflow(size)
            total = overflow ? nil : next
        }
        return (entries.count, total)
    }

    /// The lines of an NDJSON blob (a last one without its newline counted) and, with `pending`,
    /// how many have `"status":"pending"` (nil when a line is over 1 MiB or not a JSON object) and
    /// the SHA-256 of the last line (without its newline; nil when there is none).
    private static func countLines(_ digest: Digest, store: SnapshotStore, pending: Bool) throws(StoreError)
        -> (lines: Int, pending: Int?, lastLine: Digest?) {
        let reader = try store.openBlob(digest)
        var lines = 0
        var pendingCount: Int? = pending ? 0 : nil
        var line: [UInt8] = []
        var tooLong = false
        var partial = false
        var hasher = pending ? SHA256Hasher() : nil
        var lastLine: Digest?
        func gather(_ piece: ArraySlice<UInt8>) {
            partial = true
            hasher?.update(piece)
            guard pendingCount != nil, !tooLong else { return }
            if line.count + piece.count > 1 << 20 {
                tooLong = true
                line.removeAll()
            } else {
                line += piece
            }
        }
        func finish() {
            lines += 1
            if pendingCount != nil {
                if !tooLong, let value = try? JSONParser.parse(line), case .object = value {
                    if value["status"]?.stringValue == "pending" { pendingCount? += 1 }
                } else {
                    pendingCount = nil
                }
            }
            line.removeAll(keepingCapacity: true)
            tooLong = false
            partial = false
            if let finished = hasher {
                lastLine = finished.finalize()
                hasher = SHA256Hasher()
            }
        }
        while let chunk = try reader.read(upTo: 1 << 20) {
            var start = chunk.startIndex
            while let end = chunk[start...].firstIndex(of: 0x0a) {
                gather(chunk[start..<end])
                finish()
                start = end + 1
            }
            if start < chunk.endIndex { gather(chunk[start...]) }
        }
        if partial { finish() }
        return (lines, pendingCount, lastLine)
    }
}
