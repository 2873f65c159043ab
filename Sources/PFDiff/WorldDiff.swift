import PFModel
import PFStore
#if canImport(Glibc)
import Glibc
#endif

/// How the world layer changed: entries of the file tree added, removed or modified (by exact
/// path bytes), the environment by key, processes by pid, and the browser DOM.
public struct WorldDiff: Sendable {
    /// What every layer's comparison says.
    public var layer: LayerDiff
    /// Tree entries by path; `changed` are modified entries (see ``WorldEntry/differences(_:_:)``).
    /// Empty when the trees were not compared (a note says why).
    public var files: Changes<WorldEntry>
    /// Entries whose only difference is their modification time.
    public var touched: Int
    /// Environment variables by name (values as recorded: secrets were redacted at capture).
    public var env: Changes<EnvironmentVariable>
    /// Processes by pid.
    public var processes: Changes<WorldProcess>
    /// The DOM records, when they differ.
    public var dom: Change<WorldDOM?>?

    /// An environment variable.
    public struct EnvironmentVariable: Sendable, Equatable {
        /// The variable's name.
        public var name: String
        /// Its value as recorded (`<redacted>` where the capture took it for a secret).
        public var value: String
    }

    /// The largest pack `diff` reads.
    public static let maximumBlobBytes = 64 << 20
    /// The largest tree index `diff` reads: parsed, one takes about 13 times its size (measured: 782 MiB
    /// for a 60 MiB index), so two at this limit stay under about 0.85 GiB.
    public static let maximumIndexBytes = 32 << 20
    /// About how many bytes of packs `diff` holds at once while it compares files that moved.
    public static let maximumHeldBytes = 256 << 20

    static func compare(_ layer: LayerDiff, from old: WorldLayer, to new: WorldLayer, store: SnapshotStore) throws(StoreError) -> WorldDiff {
        var layer = layer
        var files = Changes<WorldEntry>()
        var touched = 0
        if old.content.tree.index != new.content.tree.index,
           var oldTree = try readTree(LayerBlob(old.content.tree.index, in: old.blobs), side: "A", store: store, notes: &layer.notes),
           var newTree = try readTree(LayerBlob(new.content.tree.index, in: new.blobs), side: "B", store: store, notes: &layer.notes) {
            try compareMovedFiles(&oldTree, &newTree, oldBlobs: old.blobs, newBlobs: new.blobs, store: store, notes: &layer.notes)
            files = Changes(from: oldTree.entries, to: newTree.entries, order: PathKey.precedes,
                            same: { WorldEntry.differences($0, $1).isEmpty })
            for (path, entry) in oldTree.entries {
                if let other = newTree.entries[path], WorldEntry.differences(entry, other).isEmpty, entry.mtimeNanoseconds != other.mtimeNanoseconds {
                    touched += 1
                }
            }
        }
        func variables(_ env: [String: String]?) -> [String: EnvironmentVariable] {
            (env ?? [:]).reduce(into: [:]) { $0[$1.key] = EnvironmentVariable(name: $1.key, value: $1.value) }
        }
        func processes(_ list: [WorldProcess]?) -> [Int: WorldProcess] {
            Dictionary((list ?? []).map { ($0.pid, $0) }, uniquingKeysWith: { first, _ in first })
        }
        return WorldDiff(
            layer: layer, files: files, touched: touched,
            env: Changes(from: variables(old.content.env), to: variables(new.content.env), order: <),
            processes: Changes(from: processes(old.content.processes), to: processes(new.content.processes), order: <),
            dom: old.content.dom == new.content.dom ? nil : Change(from: old.content.dom, to: new.content.dom))
    }

    private static func readTree(_ blob: LayerBlob, side: String, store: SnapshotStore, notes: inout [String]) throws(StoreError) -> WorldTreeIndex? {
        try store.readFormat(blob, what: "\(side)'s tree index", loss: "files not compared", limit: maximumIndexBytes, notes: &notes,
                             parse: WorldTreeIndex.init)
    }

    /// Compares the bytes of every file present on both sides with the same size at different places
    /// (another pack or offset: its neighbours changed), reading the packs or blobs holding them through
    /// the verified reader, at most ``maximumBlobBytes`` each and about ``maximumHeldBytes`` held at once.
    private static func compareMovedFiles(_ old: inout WorldTreeIndex, _ new: inout WorldTreeIndex, oldBlobs: [Descriptor],
                                          newBlobs: [Descriptor], store: SnapshotStore, notes: inout [String]) throws(StoreError) {
        var pairs: [(path: PathKey, from: (blob: Digest, offset: Int64), to: (blob: Digest, offset: Int64), size: Int64)] = []
        for (path, before) in old.entries {
            guard let after = new.entries[path], before.type == "file", after.type == "file", let size = before.size, size == after.size,
                  before.packed != nil || after.packed != nil, !before.sameContent(as: after),
                  let from = before.location, let to = after.location else { continue }
            pairs.append((path, from, to, size))
        }
        // Pairs of the same two packs together: each pack is read about once.
        pairs.sort { ($0.from.blob, $0.to.blob) < ($1.from.blob, $1.to.blob) }
        let sizes = [oldBlobs, newBlobs].map { blobs in
            Dictionary(blobs.map { ($0.digest, $0.size) }, uniquingKeysWith: { first, _ in first })
        }
        var held: [Digest: [UInt8]?] = [:]
        var heldBytes = 0
        func bytes(_ digest: Digest, side: Int) throws(StoreError) -> [UInt8]? {
            if let known = held[digest] { return known }
            if heldBytes > maximumHeldBytes { (held, heldBytes) = ([:], 0) }
            let read = try store.readBounded(digest, expectedSize: sizes[side][digest], limit: maximumBlobBytes)
            if read == nil { notes.append("contents in \(digest) not compared: it is larger than diff reads (\(maximumBlobBytes >> 20) MiB)") }
            held[digest] = .some(read)
            heldBytes += read?.count ?? 0
            return read
        }
        func slice(_ bytes: [UInt8], _ offset: Int64, _ size: Int64) -> Range<Int>? {
            let (end, overflow) = offset.addingReportingOverflow(size)
            guard offset >= 0, size >= 0, !overflow, end <= Int64(bytes.count) else { return nil }
            return Int(offset)..<Int(end)
        }
        for pair in pairs {
            guard let a = try bytes(pair.from.blob, side: 0), let b = try bytes(pair.to.blob, side: 1) else { continue }
            guard let first = slice(a, pair.from.offset, pair.size), let second = slice(b, pair.to.offset, pair.size) else {
                let side = slice(a, pair.from.offset, pair.size) == nil ? ("A", pair.from.blob) : ("B", pair.to.blob)
                notes.append("\(side.0)'s entry \(DisplayText.escaped(bytes: pair.path.bytes)) lies outside its pack \(side.1)")
                continue
            }
            let equal = pair.size == 0 || a.withUnsafeBytes { x in
                b.withUnsafeBytes { y in memcmp(x.baseAddress! + first.lowerBound, y.baseAddress! + second.lowerBound, first.count) == 0 }
            }
            old.entries[pair.path]?.sameBytes = equal
            new.entries[pair.path]?.sameBytes = equal
        }
    }

    /// The layer's JSON object with `files` (modified entries carry `changes`), `touched`, `env`,
    /// `processes` and `dom`.
    public var json: JSONValue {
        let filesJSON = JSONValue.object([
            "added": .array(files.added.map(\.json)),
            "removed": .array(files.removed.map(\.json)),
            "modified": .array(files.changed.map { change in
                var object: [String: JSONValue] = ["from": change.from.json, "to": change.to.json,
                                                   "changes": .array(WorldEntry.differences(change.from, change.to).map { .string($0) })]
                WorldEntry.name(change.to.path, "path", "path_bytes", into: &object)
                return .object(object)
            }),
        ])
        func dom(_ record: WorldDOM?) -> JSONValue {
            record.map { .object(["path": .string($0.path), "digest": .string($0.digest.description), "size": .int($0.size)]) } ?? .null
        }
        return layer.json(adding: [
            "files": filesJSON,
            "touched": .int(Int64(touched)),
            "env": env.json { .object(["name": .string($0.name), "value": .string($0.value)]) },
            "processes": processes.json { process in
                var object: [String: JSONValue] = ["pid": .int(Int64(process.pid)), "ppid": .int(Int64(process.ppid)),
                                                   "cmdline": .array(process.cmdline.map { .string($0) })]
                if let state = process.state { object["state"] = .string(state) }
                if let exe = process.exe { object["exe"] = .string(exe) }
                if let cwd = process.cwd { object["cwd"] = .string(cwd) }
                return .object(object)
            },
            "dom": self.dom.map { .object(["from": dom($0.from), "to": dom($0.to)]) } ?? .null,
        ])
    }
}
