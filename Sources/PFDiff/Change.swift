/// One value as it was in the first snapshot and as it is in the second.
public struct Change<Value: Sendable>: Sendable {
    /// The value in the first snapshot (`A`).
    public var from: Value
    /// The value in the second snapshot (`B`).
    public var to: Value

    /// A change from `from` to `to`.
    public init(from: Value, to: Value) {
        self.from = from
        self.to = to
    }
}
