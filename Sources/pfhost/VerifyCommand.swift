import ArgumentParser
import PFHost
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

    @Flag(help: "Print the result as JSON (schema pfhost.verify/1); the exit status is the same.")
    var json = false

    func validate() throws {
        if all && reference != nil { throw ValidationError("give a snapshot or --all, not both") }
    }

    func run() throws {
        let store = try storeOptions.open()
        var ids: [Digest]?
        if let reference {
            do { ids = [try store.resolve(reference)] } catch { throw fail(error, ExitStatus.of(error)) }
        }
        var verifier = StoreVerifier(store: store, layerCheck: LayerValidator.storedLayerProblem)
        let problems = verifier.verify(snapshots: ids, everyBlob: all)
        let count = ids?.count ?? ((try? store.history().count) ?? 0)
        if json {
            JSONOutput.print(command: "verify", [
                "ok": .bool(problems.isEmpty), "snapshots": .int(Int64(count)), "every_blob": .bool(all),
                "problems": .array(problems.map { problem in
                    .object(["snapshot": problem.snapshot.map { .string($0.description) } ?? .null,
                             "file": .string(problem.file), "message": .string(problem.message)])
                }),
            ])
        } else {
            for problem in problems { print(DisplayText.escaped(problem.description)) }
        }
        try flushStandardOutput()
        if !problems.isEmpty {
            throw fail("\(Formatting.count(problems.count, "problem")) found in \(store.path)", ExitStatus.problemsFound)
        }
        if !json { print("ok: \(Formatting.count(count, "snapshot")) verified\(all ? ", and every blob" : "")") }
        try flushStandardOutput()
    }
}
