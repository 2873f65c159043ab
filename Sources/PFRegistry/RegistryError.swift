import PFModel
import PFStore
import PFSystem

/// Why a push or a pull failed. Every case names the registry, the repository or the blob
/// involved and says what the user can do; ``exitStatus`` is the documented exit status.
public enum RegistryError: Error, Sendable, CustomStringConvertible {
    /// `registry[:port]/repository[:tag|@digest]` is not well formed.
    case invalidReference(String, reason: String)
    /// libcurl could not be loaded.
    case transportUnavailable(String)
    /// No connection could be made to the registry (after the retries).
    case unreachable(registry: String, reason: String)
    /// The connection broke and the retries ran out.
    case connectionFailed(registry: String, what: String, reason: String)
    /// The registry wants credentials and has none, or refused the ones given.
    case authentication(registry: String, reason: String)
    /// The registry refused an operation for lack of permission.
    case denied(registry: String, what: String, reason: String)
    /// The registry does not have what was asked for.
    case notFound(registry: String, what: String)
    /// The registry answered with something other than what the protocol says: a blob whose bytes
    /// do not match its digest, a manifest that is not JSON, an unexpected status.
    case protocolViolation(registry: String, what: String, reason: String)
    /// What was pulled is not a pfhost snapshot.
    case notASnapshot(String, reason: String)
    /// The credentials could not be read (`--password-stdin`, the Docker config file).
    case credentials(String)
    /// The local store failed.
    case store(StoreError)

    public var description: String {
        switch self {
        case .invalidReference(let text, let reason):
            "invalid registry reference '\(DisplayText.escaped(text))': \(reason) (write registry[:port]/repository[:tag|@sha256:…], e.g. localhost:5000/agents/a:latest)"
        case .transportUnavailable(let reason):
            "cannot load libcurl for push and pull: \(reason) (install Debian's libcurl4)"
        case .unreachable(let registry, let reason):
            "cannot reach the registry \(registry): \(reason) (is it running? check the host and port; use --plain-http for a registry without TLS)"
        case .connectionFailed(let registry, let what, let reason):
            "the connection to \(registry) failed while \(what): \(reason) (retried; run the command again to resume)"
        case .authentication(let registry, let reason):
            "authentication to \(registry) failed: \(reason) (give --username with --password-stdin, set PFHOST_REGISTRY_USERNAME and PFHOST_REGISTRY_PASSWORD, or add an auths entry to ~/.docker/config.json)"
        case .denied(let registry, let what, let reason):
            "the registry \(registry) refused \(what): \(reason) (check that the account may push or pull this repository)"
        case .notFound(let registry, let what):
            "\(registry) has no \(what)"
        case .protocolViolation(let registry, let what, let reason):
            "the registry \(registry) answered wrongly while \(what): \(reason)"
        case .notASnapshot(let what, let reason):
            "\(what) is not a pfhost snapshot: \(reason)"
        case .credentials(let reason):
            "cannot read the registry credentials: \(reason)"
        case .store(let error):
            error.description
        }
    }
}
