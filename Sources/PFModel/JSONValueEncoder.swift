/// Encodes `Encodable` values straight into ``JSONValue``, without Foundation's `JSONEncoder`
/// and a re-parse: the fast path of ``CanonicalJSON``.
///
/// Integers become `.int`; floating-point values and integers beyond `Int64` are errors, since
/// pfhost's JSON has no canonical form for them.
enum JSONValueEncoder {
    static func encode<Value: Encodable>(_ value: Value) throws -> JSONValue {
        if let json = asJSONValue(value) { return json }
        let node = Node()
        try value.encode(to: NodeEncoder(node: node, path: nil))
        return node.value
    }
}

/// `value` itself when it is a ``JSONValue``, found by comparing types (cheaper than a dynamic cast).
@inline(__always)
private func asJSONValue<T>(_ value: T) -> JSONValue? {
    T.self == JSONValue.self ? unsafeBitCast(value, to: JSONValue.self) : nil
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

    func child<Value: Encodable>(encoding value: Value, at path: CodingPathNode) throws -> Node {
        let node = Node()
        if let json = asJSONValue(value) {
            node.content = .value(json)
        } else if let scalar = fastScalar(value) {
            node.content = .value(scalar)
        } else {
            try value.encode(to: NodeEncoder(node: node, path: path))
        }
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

/// The JSON of the integer, string and boolean types, found by comparing types; nil for any
/// other type (which then encodes itself, floating point failing in `scalar`).
@inline(__always)
private func fastScalar<T>(_ value: T) -> JSONValue? {
    if T.self == String.self { return .string(unsafeBitCast(value, to: String.self)) }
    if T.self == Int.self { return .int(Int64(unsafeBitCast(value, to: Int.self))) }
    if T.self == Int64.self { return .int(unsafeBitCast(value, to: Int64.self)) }
    if T.self == Bool.self { return .bool(unsafeBitCast(value, to: Bool.self)) }
    if T.self == Int32.self { return .int(Int64(unsafeBitCast(value, to: Int32.self))) }
    if T.self == UInt32.self { return .int(Int64(unsafeBitCast(value, to: UInt32.self))) }
    return nil
}

/// Turns a Swift scalar into a JSON value, refusing what pfhost's JSON cannot hold.
private func scalar<T>(_ value: T, at path: [any CodingKey]) throws -> JSONValue {
    switch value {
    case let v as Bool: return .bool(v)
    case let v as String: return .string(v)
    case let v as Int: return .int(Int64(v))
    case let v as Int8: return .int(Int64(v))
    case let v as Int16: return .int(Int64(v))
    case let v as Int32: return .int(Int64(v))
    case let v as Int64: return .int(v)
    case let v as UInt8: return .int(Int64(v))
    case let v as UInt16: return .int(Int64(v))
    case let v as UInt32: return .int(Int64(v))
    case let v as UInt: if let i = Int64(exactly: v) { return .int(i) }
    case let v as UInt64: if let i = Int64(exactly: v) { return .int(i) }
    default: break
    }
    throw EncodingError.invalidValue(value, EncodingError.Context(
        codingPath: path, debugDescription: "\(T.self) value \(value) has no canonical JSON form (floating point or beyond Int64)"))
}

private struct KeyedNodeContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: Node
    let path: CodingPathNode?
    var codingPath: [any CodingKey] { CodingPathNode.array(path) }

    private func path(_ key: Key) -> CodingPathNode { CodingPathNode(parent: path, key: key) }

    private func set(_ child: Node, for key: Key) {
        guard case .object(var members) = node.content else { return }
        node.content = .empty  // release the dictionary so the mutation below does not copy it
        members[key.stringValue] = child
        node.content = .object(members)
    }

    private func leaf(_ value: JSONValue) -> Node {
        let child = Node()
        child.content = .value(value)
        return child
    }

    mutating func encodeNil(forKey key: Key) throws { set(leaf(.null), for: key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { set(leaf(.bool(value)), for: key) }
    mutating func encode(_ value: String, forKey key: Key) throws { set(leaf(.string(value)), for: key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { set(leaf(try scalar(value, at: CodingPathNode.array(path(key)))), for: key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { set(leaf(try scalar(value, at: CodingPathNode.array(path(key)))), for: key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { set(leaf(.int(Int64(value))), for: key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { set(leaf(.int(Int64(value))), for: key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { set(leaf(.int(Int64(value))), for: key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { set(leaf(.int(Int64(value))), for: key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { set(leaf(.int(value)), for: key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { set(leaf(try scalar(value, at: CodingPathNode.array(path(key)))), for: key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { set(leaf(.int(Int64(value))), for: key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { set(leaf(.int(Int64(value))), for: key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { set(leaf(.int(Int64(value))), for: key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { set(leaf(try scalar(value, at: CodingPathNode.array(path(key)))), for: key) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        set(try node.child(encoding: value, at: path(key)), for: key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let child = Node()
        set(child, for: key)
        return NodeEncoder(node: child, path: path(key)).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = Node()
        set(child, for: key)
        return NodeEncoder(node: child, path: path(key)).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        superEncoder(forKey: Key(stringValue: "super")!)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let child = Node()
        set(child, for: key)
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

    mutating func encodeNil() throws { try encode(JSONValue.null) }
    mutating func encode(_ value: Bool) throws { try encode(JSONValue.bool(value)) }
    mutating func encode(_ value: String) throws { try encode(JSONValue.string(value)) }
    mutating func encode(_ value: Int) throws { try encode(JSONValue.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { try encode(JSONValue.int(value)) }
    mutating func encode(_ value: Double) throws { try encode(scalar(value, at: CodingPathNode.array(indexPath))) }
    mutating func encode(_ value: Float) throws { try encode(scalar(value, at: CodingPathNode.array(indexPath))) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        append(try node.child(encoding: value, at: indexPath))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = Node()
        append(child)
        return NodeEncoder(node: child, path: indexPath).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = Node()
        append(child)
        return NodeEncoder(node: child, path: indexPath).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let child = Node()
        append(child)
        return NodeEncoder(node: child, path: indexPath)
    }
}

private struct SingleNodeContainer: SingleValueEncodingContainer {
    let node: Node
    let path: CodingPathNode?
    var codingPath: [any CodingKey] { CodingPathNode.array(path) }

    mutating func encodeNil() throws { node.content = .value(.null) }
    mutating func encode(_ value: Bool) throws { node.content = .value(.bool(value)) }
    mutating func encode(_ value: String) throws { node.content = .value(.string(value)) }
    mutating func encode(_ value: Double) throws { node.content = .value(try scalar(value, at: codingPath)) }
    mutating func encode(_ value: Float) throws { node.content = .value(try scalar(value, at: codingPath)) }
    mutating func encode(_ value: Int) throws { node.content = .value(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { node.content = .value(.int(value)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        if let json = asJSONValue(value) {
            node.content = .value(json)
        } else if let scalarValue = fastScalar(value) {
            node.content = .value(scalarValue)
        } else {
            try value.encode(to: NodeEncoder(node: node, path: path))
        }
    }
}
