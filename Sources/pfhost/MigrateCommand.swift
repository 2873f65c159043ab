import ArgumentParser
import PFModel
import PFStore

/// `pfhost migrate`: upgrade a format-1 store to format 2 in place.
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Upgrade the store to store format 2 in place (crash-safe; content ids do not change).")

    @OptionGroup var storeOptions: StoreOptions

    @Flag(help: "Print {\"schema\":\"pfhost.migrate/1\",\"from\":N,\"to\":2,\"snapshots\":N,\"tags\":N}.")
    var json = false

    func run() throws {
        let store = try storeOptions.open()
        let migration: SnapshotStore.Migration
        do { migration = try store.migrate() } catch { throw fail(error, ExitStatus.of(error)) }
        if json {
            JSONOutput.print(.object([
                "schema": .string("pfhost.migrate/1"), "from": .int(Int64(migration.from)), "to": .int(2),
                "snapshots": .int(Int64(migration.snapshots)), "tags": .int(Int64(migration.tags)),
            ]))
        } else if migration.from == 2 {
            print("\(store.path) is already store format 2")
        } else {
            print("\(store.path): upgraded from store format 1 to 2 (\(Formatting.count(migration.snapshots, "snapshot")) in ingest/journal.v2, \(Formatting.count(migration.tags, "tag")) in index.json)")
        }
        try flushStandardOutput(done: migration.from == 2 ? nil : "the store is migrated")
    }
}
