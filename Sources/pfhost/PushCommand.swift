import ArgumentParser
import PFModel
import PFRegistry
import PFStore
#if canImport(Glibc)
import Glibc
#endif

/// `pfhost push`: a snapshot and its history to an OCI registry.
struct PushCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Send a snapshot and the ancestors the registry lacks to an OCI registry.",
        discussion: """
            DEST is registry[:port]/repository[:tag|@digest]. Blobs the registry has are not sent (HEAD first); \
            ancestors go by digest, the snapshot under DEST's tag. Credentials: --username with --password-stdin, \
            PFHOST_REGISTRY_USERNAME/PFHOST_REGISTRY_PASSWORD, or ~/.docker/config.json. Prints DEST@digest.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var registryOptions: RegistryOptions

    @Argument(help: "The snapshot: content id, unique prefix (12+ hex digits) or tag.")
    var reference: String

    @Argument(help: "Where to: registry[:port]/repository[:tag|@digest].")
    var destination: String

    @Flag(name: .customLong("all-ancestors"), help: "Carry every ancestor (the default; the opposite of --depth).")
    var allAncestors = false

    @Option(name: .customLong("mount-from"), help: ArgumentHelp("A repository of the same registry to mount blobs from before uploading (repeatable).", valueName: "repository"))
    var mountFrom: [String] = []

    func validate() throws {
        if allAncestors && registryOptions.depth != nil { throw ValidationError("give --depth or --all-ancestors, not both") }
    }

    func run() throws {
        let store = try storeOptions.open()
        let target = try RegistryOptions.reference(destination)
        let id: Digest
        do { id = try store.resolve(reference) } catch { throw fail(error, ExitStatus.of(error)) }
        var options = try registryOptions.transferOptions(for: target)
        options.mountFrom = mountFrom
        let progress = registryOptions.showsProgress ? TransferProgressLine(verb: "pushing") : nil
        options.progress = progress?.report
        let report: TransferReport
        do {
            report = try SnapshotPusher(store: store, destination: target, options: options).push(id)
            progress?.clear()
        } catch {
            progress?.clear()
            throw fail(error, ExitStatus.of(error))
        }
        var pushed = target
        pushed.digest = id
        if registryOptions.json {
            var json = report.json
            if case .object(var members) = json {
                members["reference"] = .string(pushed.description)
                members["schema"] = .string("pfhost.push/1")
                json = .object(members)
            }
            print(String(decoding: CanonicalJSON.encode(json), as: UTF8.self))
        } else {
            print(pushed.description)
            TransferSummary.print(report, verb: "pushed", direction: "sent", skipped: "already there")
        }
        try flushStandardOutput(done: "the push is complete")
    }
}
