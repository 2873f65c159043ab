import ArgumentParser
import PFDiff
import PFModel
import PFStore

/// `pfhost diff A B`: what changed from one snapshot to another, layer by layer.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show what changed from snapshot A to snapshot B, layer by layer.",
        discussion: """
            Model files and adapters, KV sequences and pages, world files (by exact name), environment, \
            processes and DOM, ledger entries appended (or the ledger's history rewritten) and trace messages \
            appended. Every blob read is checked against its digest: a damaged store exits 3.
            """)

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: ArgumentHelp("The first snapshot: content id, unique prefix or tag.", valueName: "a"))
    var from: String

    @Argument(help: ArgumentHelp("The second snapshot; without it, A is compared with its first parent.", valueName: "b"))
    var to: String?

    @Flag(help: "Print the whole comparison as JSON (schema pfhost.diff/1).")
    var json = false

    func run() throws {
        let store = try storeOptions.open()
        let diff: SnapshotDiff
        do {
            let (a, b) = try pair(store)
            diff = try SnapshotDiffer(store: store).diff(from: a, to: b)
        } catch {
            throw fail(error, ExitStatus.of(error))
        }
        if json {
            JSONOutput.print(diff.json)
        } else {
            for line in DiffText.lines(diff) { print(line) }
        }
        try flushStandardOutput()
    }

    /// A and B; with A alone, A's first parent and A.
    private func pair(_ store: SnapshotStore) throws(StoreError) -> (Digest, Digest) {
        let a = try store.resolve(from)
        if let to { return (a, try store.resolve(to)) }
        guard let parent = try store.snapshot(a).manifest.parents.first else {
            throw .noParent(reference: from, id: a, hint: "give two snapshots (pfhost diff A B)")
        }
        // A snapshot copied without its history names a parent the store does not hold.
        guard store.has(parent) else { throw .notFound(reference: parent.description, store: store.path) }
        return (parent, a)
    }
}
