import ArgumentParser
import PFModel
import PFStore

/// `pfhost gc`: remove what no snapshot reaches.
struct GCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove every blob no snapshot of the history reaches, and temporary files of writers that are gone.",
        discussion: "Safe beside snapshots in other processes: it waits for the writers running when it sweeps, and new ones wait for it.")

    @OptionGroup var storeOptions: StoreOptions

    @Flag(help: "Only say what would be removed.")
    var dryRun = false

    @Flag(help: "Print {\"schema\":\"pfhost.gc/1\",…} (see docs/cli.md).")
    var json = false

    func run() throws {
        let store = try storeOptions.open()
        let result: SnapshotStore.GarbageCollection
        do { result = try store.collectGarbage(dryRun: dryRun) } catch { throw fail(error, ExitStatus.of(error)) }
        StoreOptions.reportUpgrades(store)
        if json {
            JSONOutput.print(.object([
                "schema": .string("pfhost.gc/1"), "dry_run": .bool(dryRun), "snapshots": .int(Int64(result.snapshots)),
                "blobs_kept": .int(Int64(result.blobsKept)), "blobs_removed": .int(Int64(result.blobsRemoved)),
                "bytes_removed": .int(result.bytesRemoved), "temporary_files_removed": .int(Int64(result.temporary.files)),
                "temporary_bytes_removed": .int(result.temporary.bytes), "journal_lines_dropped": .int(Int64(result.journalLinesDropped)),
            ]))
        } else {
            let verb = dryRun ? "would remove" : "removed"
            print("\(verb) \(Formatting.count(result.blobsRemoved, "blob")) (\(Formatting.bytes(result.bytesRemoved))) and \(Formatting.count(result.temporary.files, "temporary file")) (\(Formatting.bytes(result.temporary.bytes))); kept \(Formatting.count(result.blobsKept, "blob")) of \(Formatting.count(result.snapshots, "snapshot"))")
        }
        try flushStandardOutput(done: dryRun ? nil : "the collection is done")
    }
}
