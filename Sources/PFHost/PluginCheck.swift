import PFModel

/// One check of `pfhost check-plugin` and how it went.
public struct PluginCheck: Hashable, Sendable {
    /// How a check went.
    public enum Status: String, Hashable, Sendable {
        /// The plugin does what the check asks.
        case pass
        /// It does not; `pfhost check-plugin` exits 1.
        case fail
        /// Not an error, but something to fix (it does not change the exit status).
        case warn
        /// Not run: the plugin has no such feature, or an earlier check failed.
        case skip
    }

    /// The check's name, e.g. `determinism`.
    public let name: String
    public let status: Status
    /// Why, in one line: what was seen.
    public let detail: String

    public init(_ name: String, _ status: Status, _ detail: String) {
        self.name = name
        self.status = status
        self.detail = detail
    }

    /// `{"check":NAME,"detail":…,"status":…}`: one line of the checker's output, and of `--json`.
    public var json: JSONValue {
        .object(["check": .string(name), "status": .string(status.rawValue), "detail": .string(detail)])
    }

    /// The check in `json`, or nil.
    public init?(json: JSONValue) {
        guard let name = json["check"]?.stringValue, let status = json["status"]?.stringValue.flatMap(Status.init(rawValue:)),
              let detail = json["detail"]?.stringValue else { return nil }
        self.init(name, status, detail)
    }

    /// The checks in the order they run, with what each one asks of the plugin.
    public static let all: [(name: String, asks: String)] = [
        ("exports", "the .so exports pf_plugin_entry_v1 and nothing else"),
        ("loads", "it passes the trust check and its table is valid: id reverse-DNS, version semver, kind, ABI"),
        ("settings", "its declared settings are usable, and the configuration given passes them"),
        ("capture", "a capture into a scratch store returns PF_OK with a layer"),
        ("schema", "the layer validates against plugin-sdk/schema/layer-KIND.schema.json"),
        ("blobs", "every blob the layer lists is in the store with its size"),
        ("determinism", "a second capture of unchanged input, with the first as parent, gives the same layer"),
        ("parent-reuse", "that second capture stores no new blob"),
        ("descriptors", "a third capture leaves no more file descriptors open than it found"),
        ("concurrent-services", "a capture while other threads use the same host services gives the same layer"),
        ("restore", "restore, then a capture of what it restored, gives the same blobs"),
        ("cancellation", "a cancelled capture returns within the bound"),
    ]
}
