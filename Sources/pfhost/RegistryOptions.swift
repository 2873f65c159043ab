import ArgumentParser
import PFRegistry
import PFSystem
#if canImport(Glibc)
import Glibc
#endif

/// The options `push` and `pull` share: how to reach the registry and what to print.
struct RegistryOptions: ParsableArguments {
    @Flag(name: .customLong("plain-http"), help: "Talk plain HTTP instead of HTTPS (loopback and test registries only).")
    var plainHTTP = false

    @Option(help: ArgumentHelp("The registry user name; the password is read from stdin (--password-stdin).", valueName: "name"))
    var username: String?

    @Flag(name: .customLong("password-stdin"), help: "Read the password (or token) for --username from stdin.")
    var passwordStdin = false

    @Option(help: ArgumentHelp("Generations of ancestors to carry (0: the snapshot alone; default: all).", valueName: "n"))
    var depth: Int?

    @Option(help: ArgumentHelp("Blobs transferred at once, each on its own connection (1 to 32).", valueName: "n"))
    var parallel: Int = 4

    @Option(name: .customLong("chunk-size"), help: ArgumentHelp("push only: upload blobs larger than this in chunks of this many MiB (1 to 4096), each a point to resume from; pull ignores it.", valueName: "mib"))
    var chunkSizeMiB: Int = 16

    @Flag(help: "Print what was done as JSON.")
    var json = false

    @Flag(name: [.short, .long], help: "Draw no progress line, even on a terminal.")
    var quiet = false

    @Flag(help: "Trace every HTTP exchange on stderr (libcurl's verbose output; Authorization headers included).")
    var verbose = false

    /// Whether to draw the progress line: on a terminal, unless --quiet, --json or --verbose.
    var showsProgress: Bool { isatty(STDERR_FILENO) == 1 && !quiet && !json && !verbose }

    func validate() throws {
        // `pfhost: error:` like every other error (ArgumentParser's ValidationError prints `Error:`).
        if passwordStdin && username == nil { throw fail("--password-stdin needs --username", ExitStatus.usage) }
        if username != nil && !passwordStdin {
            throw fail("--username needs --password-stdin (a password on the command line would show in ps)", ExitStatus.usage)
        }
        if let depth, depth < 0 { throw fail("--depth must be 0 or more", ExitStatus.usage) }
        if !(1...32).contains(parallel) { throw fail("--parallel must be from 1 to 32", ExitStatus.usage) }
        if !(1...4096).contains(chunkSizeMiB) { throw fail("--chunk-size must be from 1 to 4096 (MiB)", ExitStatus.usage) }
    }

    /// The transfer options, with credentials from `--username`/`--password-stdin`, the environment or
    /// the Docker/Podman credential files.
    func transferOptions(for reference: RegistryReference) throws -> TransferOptions {
        var credentials: RegistryCredentials?
        do {
            if let username {
                var password = String(decoding: try Self.passwordLine(), as: UTF8.self)
                while password.hasSuffix("\r") { password.removeLast() }
                guard !password.isEmpty else { throw RegistryError.credentials("--password-stdin: standard input was empty") }
                credentials = RegistryCredentials(username: username, password: password, source: "--username/--password-stdin")
            } else {
                credentials = try RegistryCredentials.find(for: reference.registry)
            }
        } catch let error as RegistryError {
            throw fail(error, ExitStatus.of(error))
        }
        return TransferOptions(depth: depth, plainHTTP: plainHTTP, credentials: credentials, parallel: parallel,
                               chunkSize: Int64(chunkSizeMiB) << 20, verbose: verbose)
    }

    /// The first line of standard input without its newline (at most 64 KiB), read a byte at a time
    /// so that a pipe, a terminal, a here string or a file all work and nothing past the line is taken.
    static func passwordLine() throws(RegistryError) -> [UInt8] {
        let system = SystemCalls()
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let count: Int
            do { count = try system.read(STDIN_FILENO, into: &byte, count: 1, path: "standard input") } catch {
                throw .credentials("--password-stdin: \(error)")
            }
            if count == 0 || byte == UInt8(ascii: "\n") { return line }
            guard line.count < 64 << 10 else { throw .credentials("--password-stdin: the first line of standard input is over 64 KiB") }
            line.append(byte)
        }
    }

    /// Parses `text` as a registry reference, or fails with exit status 64.
    static func reference(_ text: String) throws -> RegistryReference {
        do { return try RegistryReference(parsing: text) } catch { throw fail(error, ExitStatus.of(error)) }
    }
}
