import ArgumentParser
import Logging
import PFHost
import PFStore

/// `pfhost capture-plugin`: the capture process `pfhost snapshot --isolate` starts for each
/// plugin (see `CaptureProcess`). Hidden from help: pfhost speaks to it over pipes.
struct CapturePluginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: CaptureProcessOptions.subcommand,
        abstract: "Capture one plugin's layer for a parent pfhost (internal to snapshot --isolate).",
        shouldDisplay: false)

    @Option(help: "The store.")
    var store: String

    @Option(help: "The store's durability mode.")
    var durability: Durability = .batch

    @Option(help: "The lowest log level sent to the parent.")
    var logLevel: String = "warning"

    @Option(help: "The parent's pid.")
    var parentPid: Int32

    @Option(help: "The plugin's file as the user named it.")
    var name: String

    @Flag(help: "Skip the trust check.")
    var allowInsecurePlugins = false

    @Argument(help: "The checked path of the plugin to load.")
    var path: String

    func run() throws {
        CaptureProcess.run(CaptureProcessOptions(
            file: name, path: path, store: store, durability: durability, allowInsecurePlugins: allowInsecurePlugins,
            logLevel: Logger.Level(rawValue: logLevel) ?? .warning, parentPID: parentPid))
    }
}
