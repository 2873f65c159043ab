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

    @Argument(help: ArgumentHelp("The second snapshot.", valueName: "b"))
    var to: String

    @Flag(help: "Print the whole comparison as JSON (schema pfhost.diff/1).")
    var json = false

    func run() throws {
        let store = try storeOptions.open()
        let diff: SnapshotDiff
        do {
            diff = try SnapshotDiffer(store: store).diff(from: store.resolve(from), to: store.resolve(to))
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
}
