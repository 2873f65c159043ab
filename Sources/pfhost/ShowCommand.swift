import ArgumentParser
import PFModel
import PFStore

/// `pfhost show`: what a snapshot holds.
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a snapshot: its agent, each layer's plugin, blob count and bytes, and its parents.")

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: "The snapshot: content id, unique prefix (12+ hex digits) or tag.")
    var reference: String

    @Flag(help: "Print the pfhost manifest itself, as canonical JSON.")
    var json = false

    func run() throws {
        let store = try storeOptions.open()
        let snapshot: Snapshot
        let tags: [String]
        do {
            snapshot = try store.snapshot(store.resolve(reference))
            tags = try store.tags()[snapshot.id] ?? []
        } catch {
            throw fail(error, ExitStatus.of(error))
        }
        if json {
            // The manifest itself (its own version fields: media_type, schema_version), not a pfhost.show document.
            let bytes: [UInt8]
            do { bytes = try CanonicalJSON.encode(snapshot.manifest) } catch {
                throw fail("cannot encode the manifest of \(snapshot.id): \(error)", ExitStatus.storeFailure)
            }
            print(String(decoding: bytes, as: UTF8.self))
            try flushStandardOutput()
            return
        }
        let manifest = snapshot.manifest
        print("snapshot \(snapshot.id)")
        // Everything below the id came from a manifest someone made: print it escaped.
        let agent = manifest.agent
        if !tags.isEmpty { print("tags     \(DisplayText.escaped(tags.sorted().joined(separator: ", ")))") }
        print("created  \(DisplayText.escaped(manifest.createdAt))")
        print(DisplayText.escaped("agent    \(agent.kind) \(agent.version)" + (agent.fingerprint.isEmpty ? "" : " (fingerprint \(agent.fingerprint))")))
        if manifest.parents.isEmpty {
            print("parents  none")
        } else {
            for (index, parent) in manifest.parents.enumerated() { print((index == 0 ? "parents  " : "         ") + parent.description) }
        }
        print("layers")
        var totalBlobs = Set<Digest>()
        for summary in manifest.layerSummaries {
            let plugin = summary.plugin.map { "\($0.id) \($0.version)" } ?? "-"
            let blobs = "\(summary.blobs.count) blob\(summary.blobs.count == 1 ? "" : "s")"
            print("  \(Formatting.pad(summary.kind.rawValue, 8)) \(Formatting.pad(DisplayText.escaped(plugin), 40)) \(Formatting.pad(blobs, 10)) \(Formatting.bytes(summary.totalBytes))")
            totalBlobs.formUnion(summary.blobs.map(\.digest))
        }
        var sizes: [Digest: Int64] = [:]
        for blob in manifest.layerSummaries.flatMap(\.blobs) { sizes[blob.digest] = blob.size }
        let totalBytes = Formatting.total(Array(sizes.values))
        print("total    \(totalBlobs.count) distinct blobs, \(Formatting.bytes(totalBytes))")
        try flushStandardOutput()
    }
}
