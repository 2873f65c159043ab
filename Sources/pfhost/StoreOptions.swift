import ArgumentParser
import PFSystem
import PFStore

/// `--store DIR`, shared by every command.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The store directory (default: $PFHOST_STORE, else ./.pfstore).", valueName: "dir"))
    var store: String?

    func validate() throws {
        // An empty path would be the working directory itself, with the store's files put there.
        if store?.isEmpty == true { throw ValidationError("--store needs a directory; an empty value names none (leave it out for $PFHOST_STORE, else ./.pfstore)") }
    }

    /// The store path the options and environment name.
    var path: String { Self.path(store) }

    /// The store `store` (a `--store` value, or nil) names: it, else `$PFHOST_STORE`, else `./.pfstore`.
    static func path(_ store: String?) -> String {
        store ?? SystemCalls.environment("PFHOST_STORE") ?? ".pfstore"
    }

    /// Opens the existing store, or fails with a one-line error.
    func open(durability: Durability = .batch) throws -> SnapshotStore {
        do {
            return try SnapshotStore(opening: path, durability: durability)
        } catch {
            throw fail(error, ExitStatus.of(error))
        }
    }
}

extension StoreOptions {
    /// Says on stderr that the store was upgraded to format 2, when a write just did it.
    static func reportUpgrades(_ store: SnapshotStore) {
        var standardError = StandardError()
        for upgrade in store.takeUpgrades() {
            print("pfhost: upgraded \(store.path) to store format 2 (\(upgrade.snapshots) snapshot\(upgrade.snapshots == 1 ? "" : "s") moved from index.json to ingest/journal.v2)", to: &standardError)
        }
    }
}

extension Durability: ExpressibleByArgument {}
