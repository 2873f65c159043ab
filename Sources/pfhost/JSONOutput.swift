import PFModel

/// The one way commands print JSON on stdout: canonical JSON (keys sorted, no spaces) on one
/// line. Every document but `show --json`'s manifest carries `"schema": "pfhost.COMMAND/N"`,
/// whose N changes only when a field is removed or changes meaning (fields may be added).
enum JSONOutput {
    /// `pfhost.COMMAND/1`: the schema of a command's `--json` document.
    static func schema(_ command: String) -> JSONValue { .string("pfhost.\(command)/1") }

    /// Prints `fields` and `"schema"` as one canonical JSON line.
    static func print(command: String, _ fields: [String: JSONValue]) {
        var object = fields
        object["schema"] = schema(command)
        print(.object(object))
    }

    /// Prints `value` as one canonical JSON line.
    static func print(_ value: JSONValue) {
        Swift.print(String(decoding: CanonicalJSON.encode(value), as: UTF8.self))
    }

    /// `{"fingerprint","kind","version"}`.
    static func agent(_ agent: Agent) -> JSONValue {
        .object(["kind": .string(agent.kind), "version": .string(agent.version), "fingerprint": .string(agent.fingerprint)])
    }

    /// A list of content ids as JSON strings.
    static func ids(_ ids: [Digest]) -> JSONValue {
        .array(ids.map { .string($0.description) })
    }
}
