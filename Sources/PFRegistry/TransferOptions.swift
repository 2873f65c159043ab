/// How a push or a pull talks to the registry and how much history it carries.
public struct TransferOptions: Sendable {
    /// Generations of ancestors to carry: 0 is the snapshot alone; nil is every ancestor.
    public var depth: Int?
    /// Talk plain HTTP instead of HTTPS (`--plain-http`): for loopback and test registries.
    public var plainHTTP: Bool
    /// The credentials to answer the registry's challenges with.
    public var credentials: RegistryCredentials?
    /// Blobs transferred at once, each on its own connection.
    public var parallel: Int
    /// Blobs up to this size are uploaded in one request; larger ones in `PATCH` chunks of this
    /// size, each a point an interrupted upload resumes from.
    public var chunkSize: Int64
    /// Repositories of the same registry to mount blobs from before uploading them.
    public var mountFrom: [String]
    /// Retries of failed requests.
    public var retryPolicy: RetryPolicy
    /// libcurl's trace on stderr.
    public var verbose: Bool
    /// Called from any transfer thread with the bytes of blobs done and their total.
    public var progress: (@Sendable (_ done: Int64, _ total: Int64) -> Void)?

    /// The defaults: every ancestor, HTTPS, four blobs at once, 16 MiB chunks.
    public init(depth: Int? = nil, plainHTTP: Bool = false, credentials: RegistryCredentials? = nil, parallel: Int = 4,
                chunkSize: Int64 = 16 << 20, mountFrom: [String] = [], retryPolicy: RetryPolicy = RetryPolicy(), verbose: Bool = false) {
        self.depth = depth
        self.plainHTTP = plainHTTP
        self.credentials = credentials
        self.parallel = max(1, parallel)
        self.chunkSize = max(1, chunkSize)
        self.mountFrom = mountFrom
        self.retryPolicy = retryPolicy
        self.verbose = verbose
    }

    /// The session a push (`push`) or pull of `reference` runs in.
    func session(for reference: RegistryReference, push: Bool) -> RegistrySession {
        RegistrySession(reference: reference, credentials: credentials, push: push, plainHTTP: plainHTTP, verbose: verbose,
                        mountFrom: push ? mountFrom : [], retryPolicy: retryPolicy)
    }
}
