import ArgumentParser
import PFModel
import PFStore

/// `pfhost init`: create an empty store.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create an empty store (an OCI image layout); an existing store is left as it is.")

    @OptionGroup var storeOptions: StoreOptions

    @Flag(help: "Print {\"schema\":\"pfhost.init/1\",\"store\":PATH} instead of the path.")
    var json = false

    func run() throws {
        let store: SnapshotStore
        do {
            store = try SnapshotStore.openOrCreate(at: storeOptions.path)
        } catch {
            throw fail(error, ExitStatus.of(error))
        }
        if json {
            JSONOutput.print(command: "init", ["store": .string(store.path)])
        } else {
            print(DisplayText.escaped(store.path))
        }
        try flushStandardOutput(done: "the store is ready")
    }
}
