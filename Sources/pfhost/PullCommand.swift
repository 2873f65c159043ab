import ArgumentParser
import PFModel
import PFRegistry
import PFStore
#if canImport(Glibc)
import Glibc
#endif

/// `pfhost pull`: a snapshot and its history from an OCI registry.
struct PullCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Fetch a snapshot and its ancestors from an OCI registry into the store.",
        discussion: """
            SOURCE is registry[:port]/repository[:tag|@digest]. Every blob is checked against its digest as it arrives; \
            blobs the store has are not fetched; snapshots are committed oldest first, so a killed pull leaves a valid store. \
            Prints the snapshot's content id.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var registryOptions: RegistryOptions

    @Argument(help: "Where from: registry[:port]/repository[:tag|@digest].")
    var source: String

    @Option(help: ArgumentHelp("The tag to give the snapshot here (default: SOURCE's tag).", valueName: "name"))
    var tag: String?

    func run() throws {
        let origin = try RegistryOptions.reference(source)
        // The tag is checked before anything is fetched: a bad one is a usage error, not a store failure at the end.
        if let name = tag ?? origin.tag, let problem = SnapshotStore.tagProblem(name) {
            throw fail("invalid tag '\(DisplayText.escaped(name))' for the store: \(problem)" + (tag == nil ? " (give another with --tag)" : ""), ExitStatus.usage)
        }
        let store: SnapshotStore
        do { store = try SnapshotStore.openOrCreate(at: storeOptions.path) } catch { throw fail(error, ExitStatus.of(error)) }
        var options = try registryOptions.transferOptions(for: origin)
        let progress = registryOptions.showsProgress ? TransferProgressLine(verb: "pulling") : nil
        options.progress = progress?.report
        let report: TransferReport
        do {
            report = try SnapshotPuller(store: store, source: origin, options: options).pull(tag: tag)
            progress?.clear()
        } catch {
            progress?.clear()
            // A push only reads the store; a pull that fails lists nothing (verified blobs are kept).
            if case .protocolViolation = error { throw fail("\(error); no snapshot was added to the store", ExitStatus.of(error)) }
            throw fail(error, ExitStatus.of(error))
        }
        if registryOptions.json {
            var json = report.json
            if case .object(var members) = json {
                members["schema"] = .string("pfhost.pull/1")
                json = .object(members)
            }
            print(String(decoding: CanonicalJSON.encode(json), as: UTF8.self))
        } else {
            print(report.id?.description ?? "")
            TransferSummary.print(report, verb: "pulled", direction: "received", skipped: "not fetched (in the store already, or shared with a snapshot fetched before)")
        }
        try flushStandardOutput(done: "the snapshot is pulled: see 'pfhost log'")
    }
}
