import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `--plugins DIR`, shared by `snapshot` and `plugins`.
struct PluginsOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The directory of plugins, one .so per layer (default: $PFHOST_PLUGINS).", valueName: "dir"))
    var plugins: String?

    /// The directory the option or the environment names, or a usage error.
    func directory() throws -> String {
        guard let directory = plugins ?? ProcessInfo.processInfo.environment["PFHOST_PLUGINS"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw fail("no plugin directory: pass --plugins DIR or set PFHOST_PLUGINS", ExitCode.validationFailure)
        }
        return directory
    }
}
