import PFModel
import PFStore

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
        public var name: String
        public var value: String
    }

    /// The largest tree index or pack `diff` reads.
    public static let maximumBlobBytes = 64 << 20

    static func compare(_ layer: LayerDiff, from old: WorldLayer, to new: WorldLayer, store: SnapshotStore) throws(StoreError) -> WorldDiff {
        var layer = layer
        var files = Changes<WorldEntry>()
        var touched = 0
        if old.content.tree.index != new.content.tree.index,
           var oldTree = try readTree(LayerBlob(old.content.tree.index, in: old.blobs), side: "A", store: store, notes: &layer.notes),
           var newTree = try readTree(LayerBlob(new.content.tree.index, in: new.blobs), side: "B", store: store, notes: &layer.notes) {
            try resolvePackedContent(&oldTree, &newTree, oldBlobs: old.blobs, newBlobs: new.blobs, store: store, notes: &layer.notes)
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
        try store.readFormat(blob, what: "\(side)'s tree index", loss: "files not compared", limit: maximumBlobBytes, notes: &notes,
                             parse: WorldTreeIndex.init)
    }

    /// Gives every packed file whose bytes must be compared (present on both sides with the same
    /// size, at different places) the digest of its bytes, reading each pack needed once.
    private static func resolvePackedContent(_ old: inout WorldTreeIndex, _ new: inout WorldTreeIndex, oldBlobs: [Descriptor],
                                             newBlobs: [Descriptor], store: SnapshotStore, notes: inout [String]) throws(StoreError) {
        var needed: [Digest: (size: Int64?, members: [(side: Int, path: PathKey)])] = [:]
        let sizes = [oldBlobs, newBlobs].map { blobs in
            Dictionary(blobs.map { ($0.digest, $0.size) }, uniquingKeysWith: { first, _ in first })
        }
        for (path, before) in old.entries {
            guard let after = new.entries[path], before.type == "file", after.type == "file", before.size == after.size,
                  !before.sameContent(as: after) else { continue }
            for (side, entry) in [(0, before), (1, after)] {
                guard let packed = entry.packed else { continue }
                needed[packed.pack, default: (sizes[side][packed.pack], [])].members.append((side, path))
            }
        }
        for (pack, use) in needed.sorted(by: { $0.key < $1.key }) {
            guard let bytes = try store.readBounded(pack, expectedSize: use.size, limit: maximumBlobBytes) else {
                notes.append("contents in pack \(pack) not compared: it is larger than diff reads (\(maximumBlobBytes >> 20) MiB)")
                continue
            }
            for (side, path) in use.members {
                guard let entry = (side == 0 ? old : new).entries[path], let packed = entry.packed, let size = entry.size else { continue }
                let (end, overflow) = packed.offset.addingReportingOverflow(size)
                guard size >= 0, !overflow, end <= Int64(bytes.count) else {
                    notes.append("\(side == 0 ? "A" : "B")'s entry \(DisplayText.escaped(bytes: path.bytes)) lies outside its pack \(pack)")
                    continue
                }
                let digest = bytes.withUnsafeBytes { raw in
                    let hasher = SHA256Hasher()
                    hasher.update(UnsafeRawBufferPointer(rebasing: raw[Int(packed.offset)..<Int(end)]))
                    return hasher.finalize()
                }
                if side == 0 { old.entries[path]?.content = digest } else { new.entries[path]?.content = digest }
            }
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
