import ArgumentParser
import PFModel
import PFStore

/// `pfhost list`: the snapshots of the history, newest first.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the snapshots, newest first: id, created, agent, logical size, bytes it added, tags.")

    @OptionGroup var storeOptions: StoreOptions

    @Option(help: "Only the snapshots in this tag's chain of first parents.")
    var tag: String?

    @Option(help: "Only the snapshots of agents of this kind.")
    var agentKind: String?

    @Flag(help: "Print {\"schema\":\"pfhost.list/1\",\"snapshots\":[…]} (see docs/cli.md).")
    var json = false

    func run() throws {
        let store = try storeOptions.open()
        let rows: [JSONValue]
        var unreadable = 0
        do { rows = try listing(store, unreadable: &unreadable) } catch { throw fail(error, ExitStatus.of(error)) }
        if json {
            JSONOutput.print(.object(["schema": .string("pfhost.list/1"), "snapshots": .array(rows)]))
        } else {
            for row in rows {
                let id = row["id"]?.stringValue ?? ""
                let agent = row["agent"].map { "\($0["kind"]?.stringValue ?? "") \($0["version"]?.stringValue ?? "")" } ?? ""
                guard case .int(let logical)? = row["logical_bytes"], case .int(let added)? = row["added_bytes"] else { continue }
                let tags: [String] = if case .array(let items)? = row["tags"] { items.compactMap(\.stringValue) } else { [] }
                let tagText = tags.isEmpty ? "" : "  (" + tags.joined(separator: ", ") + ")"
                print(DisplayText.escaped("\(id.dropFirst("sha256:".count).prefix(12))  \(row["created"]?.stringValue ?? "")  \(Formatting.pad(agent, 24))  \(Formatting.pad(Formatting.bytes(logical), 10))  +\(Formatting.pad(Formatting.bytes(added), 10))\(tagText)"))
            }
        }
        try flushStandardOutput()
        if unreadable > 0 {
            throw fail("\(Formatting.count(unreadable, "snapshot")) could not be read and \(unreadable == 1 ? "is" : "are") not listed (see the warnings; 'pfhost verify' says more)", ExitStatus.storeFailure)
        }
    }

    /// One JSON object per snapshot listed, newest first.
    private func listing(_ store: SnapshotStore, unreadable: inout Int) throws(StoreError) -> [JSONValue] {
        let tags = try store.tags()
        let (entries, damaged) = try Self.history(store, tag: tag)
        warn(skipped: damaged)
        warn(duplicates: try store.duplicateTags())
        var cache: [Digest: [OCIDescriptor]] = [:]
        var rows: [(created: String, row: JSONValue)] = []
        // What each snapshot read reaches, kept small (its root and layer manifests; the cache
        // holds what those reach) for its children's "added": a parent is usually listed before
        // them, so it is not read twice.
        var reached: [Digest: (root: OCIDescriptor, layers: [Digest], whole: [OCIDescriptor])] = [:]
        func blobs(reached known: (root: OCIDescriptor, layers: [Digest], whole: [OCIDescriptor])) -> Set<Digest> {
            var blobs = Set(known.whole.map(\.digest))
            blobs.insert(known.root.digest)
            for layer in known.layers { blobs.formUnion((cache[layer] ?? []).map(\.digest)) }
            return blobs
        }
        for entry in entries {
            // The root document and the layer manifests (each shared one read once), no layer config read.
            let snapshot: SnapshotSummary
            do { snapshot = try store.summary(of: entry.id, cache: &cache, checkingLayers: false) } catch {
                // One damaged snapshot is not the store: the others are listed (a read that fails is).
                if case .io = error { throw error }
                warn("snapshot \(Formatting.short(entry.id)) is not listed: \(error)")
                unreadable += 1
                continue
            }
            let header = snapshot.header
            reached[entry.id] = (snapshot.root, snapshot.layerManifests, snapshot.layerManifests.isEmpty ? snapshot.closure : [])
            if let agentKind, header.agent.kind != agentKind { continue }
            var parentBlobs = Set<Digest>()
            if let parent = header.parents.first {
                if let known = reached[parent] {
                    parentBlobs = blobs(reached: known)
                } else if store.has(parent), let closure = try? store.closure(of: parent, cache: &cache, checkingLayers: false) {
                    parentBlobs = Set(closure.map(\.digest))
                }
            }
            let logical = Formatting.total(snapshot.closure.map(\.size))
            let added = Formatting.total(snapshot.closure.filter { !parentBlobs.contains($0.digest) }.map(\.size))
            rows.append((header.createdAt, .object([
                "id": .string(entry.id.description),
                "tags": .array((tags[entry.id] ?? []).map(JSONValue.string)),
                "created": .string(header.createdAt),
                "agent": .object(["kind": .string(header.agent.kind), "version": .string(header.agent.version),
                                  "fingerprint": .string(header.agent.fingerprint)]),
                "parents": JSONOutput.ids(header.parents),
                "logical_bytes": .int(logical),
                "added_bytes": .int(added),
                "format": .int(Int64(header.format)),
            ])))
        }
        return Self.newestFirst(rows, created: \.created).map(\.row)
    }

    /// `items` (in the order the history added them) newest first by the creation time each
    /// snapshot records itself, the last added first among equals; those whose time is not one
    /// (``CreationTime``) come after all the others, last added first. A journal line's `created`
    /// is never the key: it is only a copy, and a forged one must not reorder anything.
    static func newestFirst<Item>(_ items: [Item], created: (Item) -> String) -> [Item] {
        items.enumerated().map { (time: CreationTime(parsing: created($0.element)), offset: $0.offset, item: $0.element) }
            .sorted { a, b in
                switch (a.time, b.time) {
                case (let x?, let y?): x == y ? a.offset > b.offset : x > y
                case (nil, nil): a.offset > b.offset
                case (_?, nil): true
                case (nil, _?): false
                }
            }
            .map(\.item)
    }

    /// The history in the order it was added (with `tag`, only that tag's chain of first parents),
    /// and the damaged journal lines skipped.
    static func history(_ store: SnapshotStore, tag: String?) throws(StoreError) -> (entries: [HistoryEntry], damaged: [JournalDamage]) {
        let (history, damaged) = try store.historyWithDamage()
        guard let tag else { return (history, damaged) }
        guard let head = try store.snapshotID(tagged: tag) else { throw .notFound(reference: tag, store: store.path) }
        let chain = try firstParents(from: head, in: store, known: Set(history.map(\.id)))
        return (history.filter { chain.contains($0.id) }, damaged)
    }

    /// `head` and its first parents, as far as the history goes.
    static func firstParents(from head: Digest, in store: SnapshotStore, known: Set<Digest>) throws(StoreError) -> Set<Digest> {
        var chain = Set<Digest>()
        var next: Digest? = head
        while let id = next, known.contains(id), chain.insert(id).inserted {
            next = try store.parents(of: id).first
        }
        return chain
    }
}
