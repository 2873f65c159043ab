import ArgumentParser
import PFSystem

/// `--plugins DIR` and `--allow-insecure-plugins`, shared by `snapshot` and `plugins`.
struct PluginsOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The directory of plugins, one .so per layer (default: $PFHOST_PLUGINS).", valueName: "dir"))
    var plugins: String?

    // A flag only, never an environment variable: one left set would silently disarm the check.
    @Flag(help: ArgumentHelp(
        "Load plugins even if users other than root or you could have changed them (development only).",
        discussion: "Without it, a plugin directory or .so writable by group or others, owned by another user, or reached through such a directory or symlink is refused before it is opened."))
    var allowInsecurePlugins = false

    func validate() throws {
        if plugins?.isEmpty == true { throw ValidationError("--plugins needs a directory; an empty value names none (leave it out for $PFHOST_PLUGINS)") }
    }

    /// The directory the option or the environment names, or a usage error; warns on stderr
    /// when the trust check is off.
    func directory() throws -> String {
        try Self.directory(plugins, allowInsecurePlugins: allowInsecurePlugins)
    }

    /// The directory `plugins` (a `--plugins` value, or nil) or the environment names, or a usage
    /// error; warns on stderr when `allowInsecurePlugins` turns the trust check off.
    static func directory(_ plugins: String?, allowInsecurePlugins: Bool) throws -> String {
        guard let directory = plugins ?? SystemCalls.environment("PFHOST_PLUGINS") else {
            throw fail("no plugin directory: pass --plugins DIR or set PFHOST_PLUGINS", ExitCode.validationFailure)
        }
        if allowInsecurePlugins {
            var standardError = StandardError()
            print("pfhost: warning: --allow-insecure-plugins: plugins are loaded without checking who could have changed them",
                  to: &standardError)
        }
        return directory
    }
}
