import PFModel

/// A layer's single-valued fields whose values differ (a model's `name`, a cache's `dtype`), by
/// their JSON name, each value as text (`nil`: absent).
public struct FieldChanges: Sendable {
    /// The fields that differ, by name.
    public var changes: [String: Change<String?>]

    /// The fields of `pairs` (name, first value, second value) whose values differ.
    init(_ pairs: [(String, String?, String?)]) {
        changes = [:]
        for (name, before, after) in pairs where before != after { changes[name] = Change(from: before, to: after) }
    }

    /// `{NAME:{"from":TEXT|null,"to":TEXT|null}}`.
    var json: JSONValue {
        .object(changes.mapValues { change in
            .object(["from": change.from.map { .string($0) } ?? .null, "to": change.to.map { .string($0) } ?? .null])
        })
    }
}
