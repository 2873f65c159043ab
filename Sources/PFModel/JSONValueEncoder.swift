/// Encodes `Encodable` values straight into ``JSONValue``, without Foundation's `JSONEncoder`
/// and a re-parse: the fast path of ``CanonicalJSON``.
///
/// Every integer type becomes `.int` when its value fits `Int64` and is an error otherwise;
/// `Double`, `Float` (and `Float16`, which encodes as `Float`) are errors, since pfhost's JSON has
/// no canonical form for floating point. `superEncoder()` writes under the key `super`.
///
/// Why it cannot recurse forever: the containers' primitive overloads that are not written out
/// here default (in the standard library) to the generic `encode<T>`, and every generic entry
/// point first asks ``primitiveJSON(_:at:)``, which knows every primitive type. Only a
/// non-primitive type reaches `encode(to:)`, and that always goes one level down.
enum JSONValueEncoder {
    static func encode<Value: Encodable>(_ value: Value) throws -> JSONValue {
        if let json = try primitiveJSON(value, at: nil) { return json }
        let node = Node()
        try value.encode(to: NodeEncoder(node: node, path: nil))
        return node.value
    }
}

/// The JSON of `value` when its type is ``JSONValue`` or one of Codable's primitive types, found
/// by comparing types (cheaper than dynamic casts, and this runs for every value of a manifest);
/// nil for any other type. Throws for what pfhost's JSON cannot hold.
@inline(__always)
private func primitiveJSON<T>(_ value: T, at path: CodingPathNode?) throws -> JSONValue? {
    if T.self == String.self { return .string(unsafeBitCast(value, to: String.self)) }
    if T.self == Int.self { return .int(Int64(unsafeBitCast(value, to: Int.self))) }
    if T.self == Int64.self { return .int(unsafeBitCast(value, to: Int64.self)) }
    if T.self == Bool.self { return .bool(unsafeBitCast(value, to: Bool.self)) }
    if T.self == JSONValue.self { return unsafeBitCast(value, to: JSONValue.self) }
    if T.self == Int32.self { return .int(Int64(unsafeBitCast(value, to: Int32.self))) }
    if T.self == UInt32.self { return .int(Int64(unsafeBitCast(value, to: UInt32.self))) }
    if T.self == Int16.self { return .int(Int64(unsafeBitCast(value, to: Int16.self))) }
    if T.self == UInt16.self { return .int(Int64(unsafeBitCast(value, to: UInt16.self))) }
    if T.self == Int8.self { return .int(Int64(unsafeBitCast(value, to: Int8.self))) }
    if T.self == UInt8.self { return .int(Int64(unsafeBitCast(value, to: UInt8.self))) }
    if T.self == UInt.self { return try exactInt64(unsafeBitCast(value, to: UInt.self), at: path) }
    if T.self == UInt64.self { return try exactInt64(unsafeBitCast(value, to: UInt64.self), at: path) }
    if T.self == Int128.self { return try exactInt64(unsafeBitCast(value, to: Int128.self), at: path) }
    if T.self == UInt128.self { return try exactInt64(unsafeBitCast(value, to: UInt128.self), at: path) }
    if T.self == Double.self || T.self == Float.self {
        throw EncodingError.invalidValue(value, EncodingError.Context(
            codingPath: CodingPathNode.array(path),
            debugDescription: "\(T.self) value \(value) is floating point, which has no canonical JSON form (use an integer or a string)"))
    }
    return nil
}

/// `.int(value)` when `value` fits `Int64`, else an error naming it.
private func exactInt64<I: BinaryInteger>(_ value: I, at path: CodingPathNode?) throws -> JSONValue {
    guard let number = Int64(exactly: value) else {
        throw EncodingError.invalidValue(value, EncodingError.Context(
            codingPath: CodingPathNode.array(path),
            debugDescription: "\(I.self) value \(value) is beyond Int64, which canonical JSON integers are"))
    }
    return .int(number)
}

/// A value under construction; containers share nodes so that a type may ask for the same
/// keyed container twice (as ``Layer`` does for its content's fields).
private final class Node {
    enum Content {
        case empty
        case value(JSONValue)
        case object([String: Node])
        case array([Node])
    }

    var content = Content.empty

    var value: JSONValue {
        switch content {
        case .empty: .object([:])
        case .value(let value): value
        case .object(let members): .object(members.mapValues(\.value))
        case .array(let items): .array(items.map(\.value))
        }
    }

    /// A node holding `value` encoded at `path`.
    static func encoding<Value: Encodable>(_ value: Value, at path: CodingPathNode) throws -> Node {
        let node = Node()
        try node.set(value, at: path)
        return node
    }

    /// Makes this node `value`, encoded at `path`.
    func set<Value: Encodable>(_ value: Value, at path: CodingPathNode?) throws {
        if let json = try primitiveJSON(value, at: path) {
            content = .value(json)
        } else {
            try value.encode(to: NodeEncoder(node: self, path: path))
        }
    }

    static func leaf(_ value: JSONValue) -> Node {
        let node = Node()
        node.content = .value(value)
        return node
    }
}

private struct NodeEncoder: Encoder {
    let node: Node
    let path: CodingPathNode?
    var codingPath: [any CodingKey] { CodingPathNode.array(path) }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object = node.content {} else { node.content = .object([:]) }
        return KeyedEncodingContainer(KeyedNodeContainer<Key>(node: node, path: path))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array = node.content {} else { node.content = .array([]) }
        return UnkeyedNodeContainer(node: node, path: path)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleNodeContainer(node: node, path: path)
    }
}

/// The primitive overloads written out are the common ones, for speed; the others default to
/// the generic `encode(_:forKey:)`, which handles them.
private struct KeyedNodeContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: Node
    let path: CodingPathNode?
    var codingPath: [any CodingKey] { CodingPathNode.array(path) }

    private func path(_ key: any CodingKey) -> CodingPathNode { CodingPathNode(parent: path, key: key) }

    private func set(_ child: Node, for key: String) {
        guard case .object(var members) = node.content else { return }
        node.content = .empty  // release the dictionary so the mutation below does not copy it
        members[key] = child
        node.content = .object(members)
    }

    mutating func encodeNil(forKey key: Key) throws { set(.leaf(.null), for: key.stringValue) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { set(.leaf(.bool(value)), for: key.stringValue) }
    mutating func encode(_ value: String, forKey key: Key) throws { set(.leaf(.string(value)), for: key.stringValue) }
    mutating func encode(_ value: Int, forKey key: Key) throws { set(.leaf(.int(Int64(value))), for: key.stringValue) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { set(.leaf(.int(value)), for: key.stringValue) }
    mutating func encode(_ value: Int128, forKey key: Key) throws { set(try .encoding(value, at: path(key)), for: key.stringValue) }
    mutating func encode(_ value: UInt128, forKey key: Key) throws { set(try .encoding(value, at: path(key)), for: key.stringValue) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        set(try .encoding(value, at: path(key)), for: key.stringValue)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let child = Node()
        set(child, for: key.stringValue)
        return NodeEncoder(node: child, path: path(key)).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = Node()
        set(child, for: key.stringValue)
        return NodeEncoder(node: child, path: path(key)).unkeyedContainer()
    }

    /// Encodes under the key `super`, which `Key` need not have a case for.
    mutating func superEncoder() -> any Encoder {
        superEncoder(named: AnyKey("super"))
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        superEncoder(named: key)
    }

    private func superEncoder(named key: any CodingKey) -> any Encoder {
        let child = Node()
        set(child, for: key.stringValue)
        return NodeEncoder(node: child, path: path(key))
    }
}

private struct UnkeyedNodeContainer: UnkeyedEncodingContainer {
    let node: Node
    let path: CodingPathNode?
    var codingPath: [any CodingKey] { CodingPathNode.array(path) }

    var count: Int {
        if case .array(let items) = node.content { return items.count }
        return 0
    }

    private func append(_ child: Node) {
        guard case .array(var items) = node.content else { return }
        node.content = .empty
        items.append(child)
        node.content = .array(items)
    }

    private var indexPath: CodingPathNode { CodingPathNode(parent: path, key: AnyKey(index: count)) }

    mutating func encodeNil() throws { append(.leaf(.null)) }
    mutating func encode(_ value: Bool) throws { append(.leaf(.bool(value))) }
    mutating func encode(_ value: String) throws { append(.leaf(.string(value))) }
    mutating func encode(_ value: Int) throws { append(.leaf(.int(Int64(value)))) }
    mutating func encode(_ value: Int64) throws { append(.leaf(.int(value))) }
    mutating func encode(_ value: Int128) throws { append(try .encoding(value, at: indexPath)) }
    mutating func encode(_ value: UInt128) throws { append(try .encoding(value, at: indexPath)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        append(try .encoding(value, at: indexPath))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let here = indexPath
        let child = Node()
        append(child)
        return NodeEncoder(node: child, path: here).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let here = indexPath
        let child = Node()
        append(child)
        return NodeEncoder(node: child, path: here).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let here = indexPath
        let child = Node()
        append(child)
        return NodeEncoder(node: child, path: here)
    }
}

private struct SingleNodeContainer: SingleValueEncodingContainer {
    let node: Node
    let path: CodingPathNode?
    var codingPath: [any CodingKey] { CodingPathNode.array(path) }

    mutating func encodeNil() throws { node.content = .value(.null) }
    mutating func encode(_ value: Bool) throws { node.content = .value(.bool(value)) }
    mutating func encode(_ value: String) throws { node.content = .value(.string(value)) }
    mutating func encode(_ value: Int) throws { node.content = .value(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { node.content = .value(.int(value)) }
    mutating func encode(_ value: Int128) throws { try node.set(value, at: path) }
    mutating func encode(_ value: UInt128) throws { try node.set(value, at: path) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try node.set(value, at: path)
    }
}
