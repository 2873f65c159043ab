import ArgumentParser
import PFModel
import PFStore

/// `pfhost untag NAME`: remove a tag; its snapshot stays in the history.
struct UntagCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "untag",
        abstract: "Remove tag NAME; the snapshot it named stays in the history (see 'pfhost forget').")

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: "The tag to remove.")
    var name: String

    @Flag(help: "Print {\"schema\":\"pfhost.untag/1\",\"id\":…,\"tag\":…}.")
    var json = false

    func run() throws {
        let store = try storeOptions.open()
        let id: Digest
        do { id = try store.untag(name) } catch { throw fail(error, ExitStatus.of(error)) }
        StoreOptions.reportUpgrades(store)
        if json {
            JSONOutput.print(.object(["schema": .string("pfhost.untag/1"), "id": .string(id.description), "tag": .string(name)]))
        } else {
            print(id)
        }
        try flushStandardOutput(done: "the tag is removed: see 'pfhost list'")
    }
}
