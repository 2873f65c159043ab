import ArgumentParser
import PFBuildIdentity
import PFHost
import PFModel
import PFSystem
#if canImport(Glibc)
import Glibc
#endif

/// `pfhost`: snapshot an AI agent's five layers into an OCI image layout.
@main
struct PFHostCommand: ParsableCommand {
    static let version = "0.1.0"

    /// Checks the command line and the working directory, then runs the command.
    static func main() {
        if let (position, bytes) = RawArguments.firstInvalid() {
            var standardError = StandardError()
            print("pfhost: error: argument \(position) (\(DisplayText.escaped(bytes: bytes))) is not valid UTF-8: pfhost reads its arguments as UTF-8 text, and a path or value with other bytes would name something else; rename the file, or put the value in a --config file (JSON, UTF-8)", to: &standardError)
            exit(withError: ExitCode.validationFailure)
        }
        if let (name, bytes) = RawArguments.invalidEnvironment() {
            var standardError = StandardError()
            print("pfhost: error: $\(name) (\(DisplayText.escaped(bytes: bytes))) is not valid UTF-8: pfhost reads it as UTF-8 text, and a value with other bytes would name something else; set it to UTF-8 text, or unset it and pass the value as an option", to: &standardError)
            exit(withError: ExitCode.validationFailure)
        }
        if let directory = RawArguments.invalidWorkingDirectory() {
            var standardError = StandardError()
            print("pfhost: error: the current directory (\(DisplayText.escaped(bytes: directory))) is not valid UTF-8: pfhost resolves relative paths against it, and its name read as UTF-8 is another directory; run pfhost from a directory whose path is UTF-8", to: &standardError)
            exit(withError: ExitCode.validationFailure)
        }
        // A reader that went away (`pfhost list | head`) or a file-size limit (`ulimit -f`) is an
        // error a write returns (EPIPE, EFBIG: exit 74, or the failing file named), not a signal
        // that kills pfhost halfway, with a restore's partial directory left behind.
        signal(SIGPIPE, SIG_IGN)
        signal(SIGXFSZ, SIG_IGN)
        // A closed stdout stays one a write fails on, never a file opened later (exit 74).
        SystemCalls.reserveStandardDescriptors()
        let arguments = RawArguments.storeAfterSubcommand(Array(CommandLine.arguments.dropFirst()))
        do {
            // The command line an agent runs after every step skips ArgumentParser's parse.
            if arguments.first == "snapshot", let snapshot = SnapshotInvocation(commandLine: arguments.dropFirst()) {
                try snapshot.run()
            } else {
                var command = try parseAsRoot(arguments)
                try command.run()
            }
            end(0)
        } catch {
            // Help and --version go as ArgumentParser sends them (no plugin is loaded then).
            let message = fullMessage(for: error)
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }
            // An error a command already printed (an ExitCode) has no message; ArgumentParser's own
            // get pfhost's prefix, like every other one.
            if !message.isEmpty {
                var standardError = StandardError()
                let text = message.hasPrefix("Error: ") ? String(message.dropFirst("Error: ".count)) : message
                print("pfhost: error: \(text)", to: &standardError)
            }
            end(code.rawValue)
        }
    }

    /// Ends pfhost with `status`, what it printed flushed first. Not `exit`: that would run the
    /// loaded libraries' destructors under the dynamic loader's lock, which a thread a plugin
    /// started may hold for ever (a `dlopen` that never returns).
    private static func end(_ status: Int32) -> Never {
        if fflush(nil) != 0 && status == 0 {
            // A command that did not flush (and check) its own output.
            var standardError = StandardError()
            print("pfhost: error: cannot write to standard output: \(String(cString: strerror(errno)))", to: &standardError)
            _exit(ExitStatus.outputFailure.rawValue)
        }
        _exit(status)
    }

    /// What `--version` prints: pfhost's version, the plugin ABI it implements, and the Swift
    /// runtime it was built with (the `build_identity` a Swift plugin must carry).
    static let versionText = "pfhost \(version) (plugin ABI \(PluginABI.major).\(PluginABI.minor), \(BuildIdentity.swiftRuntime))"

    static let configuration = CommandConfiguration(
        commandName: "pfhost",
        abstract: "Snapshot an AI agent's model, cache, world, effects and trace into a content-addressed OCI store.",
        discussion: """
            Exit status: 0 success; 1 verify found problems; 2 a plugin was refused, failed, or cannot restore; \
            3 the store is missing, corrupt or failed; 4 no such snapshot; 64 bad usage; \
            69 push/pull: the registry cannot be reached; 73 restore: TARGET is not empty or cannot be created; \
            74 stdout could not be written; 76 push/pull: the registry broke the protocol (a wrong blob); \
            77 push/pull: authentication failed or denied; 78 bad configuration or credentials. \
            --json documents are described in docs/cli.md.
            """,
        version: versionText,
        subcommands: [
            SnapshotCommand.self, RestoreCommand.self, PluginsCommand.self, CheckPluginCommand.self, ShowCommand.self, LogCommand.self,
            DiffCommand.self, VerifyCommand.self, InitCommand.self, TagCommand.self, UntagCommand.self, ListCommand.self,
            ForgetCommand.self, GCCommand.self, MigrateCommand.self, PushCommand.self, PullCommand.self, CapturePluginCommand.self,
        ]
    )
}
