import ArgumentParser
import PFModel
import PFStore

/// `pfhost verify`: re-hash and check what the store holds.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-hash every blob a snapshot references and check sizes, OCI structure and manifests.",
        discussion: "Prints one line per problem and exits 1 when there is any; exits 0 when the store is clean.")

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: "The snapshot to verify (default: every snapshot in the index).")
    var reference: String?

    @Flag(help: "Verify every snapshot and every blob file in the store, referenced or not.")
    var all = false

    func validate() throws {
        if all && reference != nil { throw ValidationError("give a snapshot or --all, not both") }
    }

    func run() throws {
        let store = try storeOptions.open()
        var ids: [Digest]?
        if let reference {
            do { ids = [try store.resolve(reference)] } catch { throw fail(error, ExitStatus.of(error)) }
        }
        var verifier = StoreVerifier(store: store)
        let problems = verifier.verify(snapshots: ids, everyBlob: all)
        for problem in problems { print(problem) }
        if !problems.isEmpty {
            throw fail("\(problems.count) problem\(problems.count == 1 ? "" : "s") found in \(store.path)", ExitStatus.problemsFound)
        }
        let count = ids?.count ?? ((try? store.history().count) ?? 0)
        print("ok: \(count) snapshot\(count == 1 ? "" : "s") verified\(all ? ", and every blob" : "")")
    }
}
