import ArgumentParser
import PFStore

/// `pfhost init`: create an empty store.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create an empty store (an OCI image layout); an existing store is left as it is.")

    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        do {
            let store = try SnapshotStore.openOrCreate(at: storeOptions.path)
            print(store.path)
        } catch {
            throw fail(error, ExitStatus.of(error))
        }
    }
}
