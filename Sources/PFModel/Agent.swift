/// The agent a snapshot is of.
public struct Agent: Codable, Hashable, Sendable {
    /// What kind of agent, e.g. `coding-assistant`.
    public var kind: String
    /// The agent's own version.
    public var version: String
    /// An identifier of this agent instance or its configuration, chosen by the operator.
    public var fingerprint: String

    /// An agent description.
    public init(kind: String, version: String, fingerprint: String) {
        self.kind = kind
        self.version = version
        self.fingerprint = fingerprint
    }
}
