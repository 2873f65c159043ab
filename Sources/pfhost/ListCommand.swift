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

    @Flag(help: "Print {\"schema\":\"pfhost.list.v1\",\"snapshots\":[…]} (see docs/cli.md).")
    var json = false

    func run() throws {
        let store = try storeOptions.open()
        let rows: [JSONValue]
        do { rows = try listing(store) } catch { throw fail(error, ExitStatus.of(error)) }
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
    }

    /// One JSON object per snapshot listed, newest first.
    private func listing(_ store: SnapshotStore) throws(StoreError) -> [JSONValue] {
        let tags = try store.tags()
        let entries = try Self.newestFirst(store, tag: tag)
        var cache: [Digest: [OCIDescriptor]] = [:]
        var rows: [JSONValue] = []
        for entry in entries {
            // The root document and the layer manifests (each shared one read once), no layer decoded.
            let manifest = try store.header(entry.id)
            if let agentKind, manifest.agent.kind != agentKind { continue }
            let closure = try store.closure(of: entry.id, cache: &cache)
            var parentBlobs = Set<Digest>()
            if let parent = manifest.parents.first, store.has(parent),
               let blobs = try? store.closure(of: parent, cache: &cache) {
                parentBlobs = Set(blobs.map(\.digest))
            }
            let logical = Formatting.total(closure.map(\.size))
            let added = Formatting.total(closure.filter { !parentBlobs.contains($0.digest) }.map(\.size))
            rows.append(.object([
                "id": .string(entry.id.description),
                "tags": .array((tags[entry.id] ?? []).map(JSONValue.string)),
                "created": .string(manifest.createdAt),
                "agent": .object(["kind": .string(manifest.agent.kind), "version": .string(manifest.agent.version),
                                  "fingerprint": .string(manifest.agent.fingerprint)]),
                "parents": JSONOutput.ids(manifest.parents),
                "logical_bytes": .int(logical),
                "added_bytes": .int(added),
                "format": .int(Int64(manifest.format)),
            ]))
        }
        return rows
    }

    /// The history, newest first (by creation time, then the order added); with `tag`, only that
    /// tag's chain of first parents.
    static func newestFirst(_ store: SnapshotStore, tag: String?) throws(StoreError) -> [HistoryEntry] {
        let history = try store.history()
        let entries = history.enumerated().sorted { a, b in
            a.element.created == b.element.created ? a.offset > b.offset : a.element.created > b.element.created
        }.map(\.element)
        guard let tag else { return entries }
        guard let head = try store.snapshotID(tagged: tag) else { throw .notFound(reference: tag, store: store.path) }
        let chain = try firstParents(from: head, in: store, known: Set(history.map(\.id)))
        return entries.filter { chain.contains($0.id) }
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
