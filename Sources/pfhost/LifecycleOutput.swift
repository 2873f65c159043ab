import PFModel

/// How the lifecycle commands (`tag`, `untag`, `list`, `forget`, `gc`, `migrate`) print JSON.
enum LifecycleOutput {
    /// Prints `value` as one line of canonical JSON.
    static func printJSON(_ value: JSONValue) {
        print(String(decoding: CanonicalJSON.encode(value), as: UTF8.self))
    }

    /// A list of content ids as JSON strings.
    static func ids(_ ids: [Digest]) -> JSONValue {
        .array(ids.map { .string($0.description) })
    }
}
