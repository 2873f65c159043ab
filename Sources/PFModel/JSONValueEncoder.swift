/// Encodes `Encodable` values straight into ``JSONValue``, without Foundation's `JSONEncoder`
/// and a re-parse: the fast path of ``CanonicalJSON``.
///
/// Integers become `.int`; floating-point values and integers beyond `Int64` are errors, since
/// pfhost's JSON has no canonical form for them.
enum JSONValueEncoder {
    static func encode<Value: Encodable>(_ value: Value) throws -> JSONValue {
        if let json = value as? JSONValue { return json }
        let node = Node()
        try value.encode(to: NodeEncoder(node: node, codingPath: []))
        return node.value
    }
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

    func child<Value: Encodable>(encoding value: Value, at path: [any CodingKey]) throws -> Node {
        let node = Node()
        if let json = value as? JSONValue {
            node.content = .value(json)
        } else {
            try value.encode(to: NodeEncoder(node: node, codingPath: path))
        }
        return node
    }
}

private struct NodeEncoder: Encoder {
    let node: Node
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object = node.content {} else { node.content = .object([:]) }
        return KeyedEncodingContainer(KeyedNodeContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array = node.content {} else { node.content = .array([]) }
        return UnkeyedNodeContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleNodeContainer(node: node, codingPath: codingPath)
    }
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
    let codingPath: [any CodingKey]

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
    mutating func encode(_ value: Double, forKey key: Key) throws { set(leaf(try scalar(value, at: codingPath + [key])), for: key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { set(leaf(try scalar(value, at: codingPath + [key])), for: key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { set(leaf(.int(Int64(value))), for: key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { set(leaf(.int(Int64(value))), for: key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { set(leaf(.int(Int64(value))), for: key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { set(leaf(.int(Int64(value))), for: key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { set(leaf(.int(value)), for: key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { set(leaf(try scalar(value, at: codingPath + [key])), for: key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { set(leaf(.int(Int64(value))), for: key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { set(leaf(.int(Int64(value))), for: key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { set(leaf(.int(Int64(value))), for: key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { set(leaf(try scalar(value, at: codingPath + [key])), for: key) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        set(try node.child(encoding: value, at: codingPath + [key]), for: key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let child = Node()
        set(child, for: key)
        return NodeEncoder(node: child, codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = Node()
        set(child, for: key)
        return NodeEncoder(node: child, codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        superEncoder(forKey: Key(stringValue: "super")!)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let child = Node()
        set(child, for: key)
        return NodeEncoder(node: child, codingPath: codingPath + [key])
    }
}

private struct UnkeyedNodeContainer: UnkeyedEncodingContainer {
    let node: Node
    let codingPath: [any CodingKey]

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

    private var indexKey: any CodingKey { AnyKey(index: count) }

    mutating func encodeNil() throws { try encode(JSONValue.null) }
    mutating func encode(_ value: Bool) throws { try encode(JSONValue.bool(value)) }
    mutating func encode(_ value: String) throws { try encode(JSONValue.string(value)) }
    mutating func encode(_ value: Int) throws { try encode(JSONValue.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { try encode(JSONValue.int(value)) }
    mutating func encode(_ value: Double) throws { try encode(scalar(value, at: codingPath + [indexKey])) }
    mutating func encode(_ value: Float) throws { try encode(scalar(value, at: codingPath + [indexKey])) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        if let scalarValue = try? scalar(value, at: codingPath) {
            let child = Node()
            child.content = .value(scalarValue)
            append(child)
        } else {
            append(try node.child(encoding: value, at: codingPath + [indexKey]))
        }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = Node()
        append(child)
        return NodeEncoder(node: child, codingPath: codingPath + [indexKey]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = Node()
        append(child)
        return NodeEncoder(node: child, codingPath: codingPath + [indexKey]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let child = Node()
        append(child)
        return NodeEncoder(node: child, codingPath: codingPath + [indexKey])
    }
}

private struct SingleNodeContainer: SingleValueEncodingContainer {
    let node: Node
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { node.content = .value(.null) }
    mutating func encode(_ value: Bool) throws { node.content = .value(.bool(value)) }
    mutating func encode(_ value: String) throws { node.content = .value(.string(value)) }
    mutating func encode(_ value: Double) throws { node.content = .value(try scalar(value, at: codingPath)) }
    mutating func encode(_ value: Float) throws { node.content = .value(try scalar(value, at: codingPath)) }
    mutating func encode(_ value: Int) throws { node.content = .value(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { node.content = .value(.int(value)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        if let json = value as? JSONValue {
            node.content = .value(json)
        } else if let scalarValue = try? scalar(value, at: codingPath) {
            node.content = .value(scalarValue)
        } else {
            try value.encode(to: NodeEncoder(node: node, codingPath: codingPath))
        }
    }
}
