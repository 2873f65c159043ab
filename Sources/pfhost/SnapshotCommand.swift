import ArgumentParser
import PFStore

/// `pfhost snapshot`: capture all five layers with the plugins in a directory and commit them.
struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Capture the agent's five layers with a directory of plugins and commit a snapshot.",
        discussion: "Prints only the new snapshot's content id on stdout (with --json, the id and per-layer figures).")

    @OptionGroup var pluginsOptions: PluginsOptions

    @OptionGroup var storeOptions: StoreOptions

    @Option(help: ArgumentHelp("A JSON config file: an agent section and one section per layer kind.", valueName: "file"))
    var config: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Set a plugin option, overriding the config file (repeatable).", valueName: "kind.key=value"))
    var settings: [String] = []

    @Option(name: .customLong("parent"), help: ArgumentHelp("A parent snapshot: id, unique prefix or tag (repeatable).", valueName: "ref"))
    var parents: [String] = []

    @Option(help: ArgumentHelp("Move this tag to the new snapshot; without --parent, the tag's snapshot becomes the parent.", valueName: "name"))
    var tag: String?

    @Option(help: ArgumentHelp("The agent's kind (overrides the config file).", valueName: "kind"))
    var agentKind: String?

    @Option(help: ArgumentHelp("The agent's version.", valueName: "version"))
    var agentVersion: String?

    @Option(help: ArgumentHelp("The agent's fingerprint.", valueName: "fingerprint"))
    var agentFingerprint: String?

    @Option(help: "How hard to flush.")
    var durability: Durability = .batch

    @Option(help: ArgumentHelp("Seconds the captures may take, counted once every plugin is loaded, before they are cancelled (each plugin may also take this long to load).", valueName: "seconds"))
    var timeout: Int = 600

    @Flag(help: ArgumentHelp(
        "Run each plugin in a process of its own: a plugin that crashes, exits or hangs fails the snapshot, naming it, instead of taking pfhost down.",
        discussion: "For third-party plugins and plugins in development; costs a process start per plugin."))
    var isolate = false

    @Flag(help: "Print the id and per-layer plugin, blob count, bytes and capture time as JSON.")
    var json = false

    @Flag(name: .shortAndLong, help: "Log debug messages from the host and the plugins on stderr.")
    var verbose = false

    @OptionGroup var progressOptions: ProgressOptions

    func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be a positive number of seconds") }
    }

    func run() throws {
        try SnapshotInvocation(self).run()
    }
}
