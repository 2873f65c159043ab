import ArgumentParser
import PFModel
#if canImport(Glibc)
import Glibc
#endif
import PFHost
import PFRegistry
import PFStore
import PFSystem

/// pfhost's exit statuses, documented in `pfhost --help` and `docs/cli.md`.
enum ExitStatus {
    static let problemsFound = ExitCode(1)
    static let pluginFailure = ExitCode(2)
    static let storeFailure = ExitCode(3)
    static let notFound = ExitCode(4)
    static let usage = ExitCode(64)
    static let cannotCreate = ExitCode(73)
    static let outputFailure = ExitCode(74)
    static let configuration = ExitCode(78)

    /// The status for a store error.
    static func of(_ error: StoreError) -> ExitCode {
        switch error {
        case .notFound, .noSuchTag, .ambiguous, .invalidReference, .noParent: notFound
        case .tagExists, .malformedReference: usage
        default: storeFailure
        }
    }

    /// The status for a snapshot error.
    static func of(_ error: SnapshotError) -> ExitCode {
        switch error {
        case .plugins, .captures, .timeout: pluginFailure
        case .configuration: configuration
        case .store(let store): of(store)
        }
    }
}

extension ExitStatus {
    /// The status for a restore error.
    static func of(_ error: RestoreError) -> ExitCode {
        if error.isStoreFailure, case .restores = error { return storeFailure }
        switch error {
        case .plugins, .missingPlugins, .cannotRestore, .restores, .timeout: return pluginFailure
        case .configuration: return configuration
        case .store(let store): return of(store)
        case .target: return cannotCreate
        }
    }
}

/// Prints `pfhost: error: <message>` on stderr, one line per line of the message, and
/// returns the exit code to throw. Each line is escaped (``DisplayText``): a message may quote what
/// a store, a registry or a plugin said, and none of it may drive the terminal.
func fail(_ message: CustomStringConvertible, _ code: ExitCode) -> ExitCode {
    var standardError = StandardError()
    for line in message.description.split(separator: "\n", omittingEmptySubsequences: false) {
        print("pfhost: error: \(DisplayText.escaped(String(line)))", to: &standardError)
    }
    return code
}

/// Flushes stdout and fails (exit 74) when what the command printed there did not reach it (a full
/// disk, a closed descriptor): a caller reading the content id from stdout must never get nothing
/// with exit status 0. `done` says what the command did all the same, for a command that changed
/// something ("the snapshot is committed: see 'pfhost log'").
func flushStandardOutput(done: String? = nil) throws {
    let after = done.map { "; \($0)" } ?? ""
    if SystemCalls.standardOutputIsReplaced() {
        throw fail("cannot write to standard output: descriptor 1 is no longer the stdout pfhost started with (a plugin closed or replaced it; run untrusted plugins with --isolate)\(after)", ExitStatus.outputFailure)
    }
    if fflush(nil) != 0 {
        let reason = String(cString: strerror(errno))
        throw fail("cannot write to standard output: \(reason)\(after)", ExitStatus.outputFailure)
    }
}

extension ExitStatus {
    static let unavailable = ExitCode(69)
    static let protocolFailure = ExitCode(76)
    static let permission = ExitCode(77)

    /// The status for a push or pull error.
    static func of(_ error: RegistryError) -> ExitCode {
        switch error {
        case .invalidReference: ExitCode.validationFailure
        case .transportUnavailable, .unreachable, .connectionFailed: unavailable
        case .authentication, .denied: permission
        case .notFound: notFound
        case .protocolViolation, .notASnapshot: protocolFailure
        case .credentials: configuration
        case .store(let store): of(store)
        }
    }
}
