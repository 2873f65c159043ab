import ArgumentParser
import PFModel
import PFStore

/// `pfhost tag REF NAME`: point a tag at a snapshot.
struct TagCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tag",
        abstract: "Point tag NAME at snapshot REF (a tag that names another snapshot moves only with --force).")

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: "The snapshot: tag, TAG~N, content id or unique prefix (7+ hex digits).")
    var reference: String

    @Argument(help: "The tag: 1 to 128 of [A-Za-z0-9_.-], not starting with '.' or '-', not 12+ hex digits.")
    var name: String

    @Flag(help: "Move the tag when it names another snapshot.")
    var force = false

    @Flag(help: "Print {\"schema\":\"pfhost.tag/1\",\"id\":…,\"tag\":…}.")
    var json = false

    func run() throws {
        if let problem = SnapshotStore.tagProblem(name) {
            throw fail("invalid tag '\(name)': \(problem)", ExitStatus.usage)
        }
        let store = try storeOptions.open()
        let id: Digest
        do { id = try store.tag(reference, as: name, force: force) } catch { throw fail(error, ExitStatus.of(error)) }
        StoreOptions.reportUpgrades(store)
        if json {
            JSONOutput.print(.object(["schema": .string("pfhost.tag/1"), "id": .string(id.description), "tag": .string(name)]))
        } else {
            print(id)
        }
        try flushStandardOutput(done: "the tag is set: see 'pfhost list'")
    }
}
