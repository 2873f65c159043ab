import Synchronization

/// What the transports of one push or pull share: the registry's address, the credentials, and
/// the authorization the registry last granted (a Bearer token or Basic credentials), so a token
/// fetched by one thread serves them all.
final class RegistrySession: Sendable {
    /// The reference being pushed to or pulled from.
    let reference: RegistryReference
    /// `https://host[:port]` (or `http://` with `--plain-http`).
    let origin: String
    /// The credentials to answer challenges with, if any.
    let credentials: RegistryCredentials?
    /// The scopes a Bearer token is asked for (`repository:NAME:pull,push`).
    let scopes: [String]
    /// Whether plain HTTP is allowed (`--plain-http`): then a token service may be plain HTTP too.
    let plainHTTP: Bool
    /// `--verbose`.
    let verbose: Bool
    /// The `Authorization` header value in force, and the count of times it was obtained.
    let authorization = Mutex<(value: String?, generation: Int)>((nil, 0))
    /// How often and how long a failed request is tried again.
    let retryPolicy: RetryPolicy

    /// A session for `reference`; `mountFrom` names repositories blobs may be mounted from (a token
    /// then also asks to pull from them).
    init(reference: RegistryReference, credentials: RegistryCredentials?, push: Bool, plainHTTP: Bool, verbose: Bool,
         mountFrom: [String] = [], retryPolicy: RetryPolicy = RetryPolicy()) {
        self.reference = reference
        origin = (plainHTTP ? "http://" : "https://") + reference.registry
        self.credentials = credentials
        scopes = ["repository:\(reference.repository):" + (push ? "pull,push" : "pull")]
            + mountFrom.filter { $0 != reference.repository }.map { "repository:\($0):pull" }
        self.plainHTTP = plainHTTP
        self.verbose = verbose
        self.retryPolicy = retryPolicy
    }

    /// `origin/v2/repository`.
    var repositoryURL: String { origin + "/v2/" + reference.repository }
}
