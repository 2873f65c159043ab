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

    /// Whether `url` is on the registry's own origin (same scheme, host and port; a default port
    /// written out counts as the same). Credentials go nowhere else but the token realm a challenge names.
    func isOwnOrigin(_ url: String) -> Bool {
        Self.normalizedOrigin(url).map { $0 == Self.normalizedOrigin(origin) } ?? false
    }

    /// `scheme://authority` of an absolute http(s) URL, lowercased, without a default port; nil otherwise.
    static func normalizedOrigin(_ url: String) -> String? {
        let lowered = url.lowercased()
        let scheme: String
        if lowered.hasPrefix("https://") { scheme = "https" } else if lowered.hasPrefix("http://") { scheme = "http" } else { return nil }
        let rest = lowered.dropFirst(scheme.count + 3)
        var authority = String(rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" })
        let defaultPort = scheme == "https" ? ":443" : ":80"
        if authority.hasSuffix(defaultPort) { authority.removeLast(defaultPort.count) }
        guard !authority.isEmpty else { return nil }
        return scheme + "://" + authority
    }

    /// `origin/v2/repository`.
    var repositoryURL: String { origin + "/v2/" + reference.repository }
}
