import ArgumentParser
import PFModel
import PFStore

/// `pfhost log`: a snapshot and its ancestors, newest first.
struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "List a snapshot and its chain of first parents, newest first.",
        discussion: "Without a reference, starts from the most recently created snapshot in the store.")

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: "Where to start: content id, unique prefix or tag.")
    var reference: String?

    @Flag(help: "Print the chain as JSON (schema pfhost.log/1).")
    var json = false

    func run() throws {
        let store = try storeOptions.open()
        do {
            try printLog(store)
        } catch {
            throw fail(error, ExitStatus.of(error))
        }
        try flushStandardOutput()
    }

    private func printLog(_ store: SnapshotStore) throws(StoreError) {
        let history = try store.history()
        let tags = try store.tags()
        let known = Set(history.map(\.id))
        var next: Digest?
        if let reference {
            next = try store.resolve(reference)
        } else {
            // The newest by creation time; among equals, the one added last.
            next = history.enumerated().max { a, b in
                a.element.created == b.element.created ? a.offset < b.offset : a.element.created < b.element.created
            }?.element.id
        }
        var seen = Set<Digest>()
        var rows: [JSONValue] = []
        var missing: Digest?
        while let id = next, seen.insert(id).inserted {
            guard known.contains(id) || seen.count == 1 else {
                missing = id
                if !json { print("\(Formatting.short(id))  (not in this store)") }
                break
            }
            // The root document only: a log of 10,000 snapshots reads no layer.
            let manifest = try store.header(id)
            let sortedTags = tags[id, default: []].sorted()
            if json {
                rows.append(.object([
                    "id": .string(id.description), "created_at": .string(manifest.createdAt), "agent": JSONOutput.agent(manifest.agent),
                    "tags": .array(sortedTags.map { .string($0) }), "parents": .array(manifest.parents.map { .string($0.description) }),
                ]))
            } else {
                let tagText = sortedTags.isEmpty ? "" : "  (" + sortedTags.joined(separator: ", ") + ")"
                let merge = manifest.parents.count > 1 ? "  +\(manifest.parents.count - 1) parent\(manifest.parents.count > 2 ? "s" : "")" : ""
                print(DisplayText.escaped("\(Formatting.short(id))  \(manifest.createdAt)  \(manifest.agent.kind) \(manifest.agent.version)\(tagText)\(merge)"))
            }
            next = manifest.parents.first
        }
        if json {
            JSONOutput.print(command: "log", ["snapshots": .array(rows), "missing_parent": missing.map { .string($0.description) } ?? .null])
        }
    }
}
