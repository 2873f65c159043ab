/// Decodes `Decodable` values straight from a ``JSONValue``, without Foundation's `JSONDecoder`:
/// the fast path of ``CanonicalJSON``. Errors are the standard `DecodingError`s, with coding paths.
enum JSONValueDecoder {
    static func decode<Value: Decodable>(_ type: Value.Type, from value: JSONValue) throws -> Value {
        try decodeValue(type, from: value, at: nil)
    }
}

private struct ValueDecoder: Decoder {
    let value: JSONValue
    let path: CodingPathNode?
    var codingPath: [any CodingKey] { CodingPathNode.array(path) }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else {
            throw DecodingError.typeMismatch([String: JSONValue].self, .init(codingPath: codingPath, debugDescription: "expected an object, found \(kindName(value))"))
        }
        return KeyedDecodingContainer(KeyedValueContainer<Key>(members: members, path: path))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let items) = value else {
            throw DecodingError.typeMismatch([JSONValue].self, .init(codingPath: codingPath, debugDescription: "expected an array, found \(kindName(value))"))
        }
        return UnkeyedValueContainer(items: items, path: path)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleValueContainer(value: value, path: path)
    }
}

private func kindName(_ value: JSONValue) -> String {
    switch value {
    case .null: "null"
    case .bool: "a boolean"
    case .int: "an integer"
    case .string: "a string"
    case .array: "an array"
    case .object: "an object"
    }
}

/// Decodes a scalar of type `T` from `value`, or throws a type mismatch at `path`.
private func scalar<T: Decodable>(_ type: T.Type, from value: JSONValue, at path: [any CodingKey]) throws -> T {
    func mismatch() -> DecodingError {
        DecodingError.typeMismatch(T.self, .init(codingPath: path, debugDescription: "expected \(T.self), found \(kindName(value))"))
    }
    switch value {
    case .string(let text):
        if let result = text as? T { return result }
    case .bool(let flag):
        if let result = flag as? T { return result }
    case .int(let number):
        switch type {
        case is Int.Type: if let v = Int(exactly: number) { return v as! T }
        case is Int64.Type: return number as! T
        case is Int32.Type: if let v = Int32(exactly: number) { return v as! T }
        case is Int16.Type: if let v = Int16(exactly: number) { return v as! T }
        case is Int8.Type: if let v = Int8(exactly: number) { return v as! T }
        case is UInt.Type: if let v = UInt(exactly: number) { return v as! T }
        case is UInt64.Type: if let v = UInt64(exactly: number) { return v as! T }
        case is UInt32.Type: if let v = UInt32(exactly: number) { return v as! T }
        case is UInt16.Type: if let v = UInt16(exactly: number) { return v as! T }
        case is UInt8.Type: if let v = UInt8(exactly: number) { return v as! T }
        case is Double.Type: return Double(number) as! T
        default: break
        }
    case .null:
        throw DecodingError.valueNotFound(T.self, .init(codingPath: path, debugDescription: "found null"))
    default:
        break
    }
    throw mismatch()
}

private func decodeValue<T: Decodable>(_ type: T.Type, from value: JSONValue, at path: CodingPathNode?) throws -> T {
    // Type comparisons instead of dynamic casts: this runs for every value of a manifest.
    if T.self == JSONValue.self { return unsafeBitCast(value, to: T.self) }
    if T.self == String.self, case .string(let text) = value { return unsafeBitCast(text, to: T.self) }
    if T.self == Int.self, case .int(let number) = value, let result = Int(exactly: number) { return unsafeBitCast(result, to: T.self) }
    if T.self == Int64.self, case .int(let number) = value { return unsafeBitCast(number, to: T.self) }
    if T.self == Bool.self, case .bool(let flag) = value { return unsafeBitCast(flag, to: T.self) }
    switch type {
    case is String.Type, is Bool.Type, is Int.Type, is Int64.Type, is Int32.Type, is Int16.Type, is Int8.Type,
         is UInt.Type, is UInt64.Type, is UInt32.Type, is UInt16.Type, is UInt8.Type, is Double.Type:
        return try scalar(type, from: value, at: CodingPathNode.array(path))
    default:
        return try T(from: ValueDecoder(value: value, path: path))
    }
}

private struct KeyedValueContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSONValue]
    let path: CodingPathNode?
    var codingPath: [any CodingKey] { CodingPathNode.array(path) }

    private func path(_ key: Key) -> CodingPathNode { CodingPathNode(parent: path, key: key) }

    var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    private func value(_ key: Key) throws -> JSONValue {
        guard let value = members[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no value for key '\(key.stringValue)'"))
        }
        return value
    }

    func decodeNil(forKey key: Key) throws -> Bool { try value(key) == .null }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decodeValue(type, from: value(key), at: path(key))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try ValueDecoder(value: value(key), path: path(key)).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try ValueDecoder(value: value(key), path: path(key)).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        ValueDecoder(value: members["super"] ?? .null, path: path)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        ValueDecoder(value: members[key.stringValue] ?? .null, path: path(key))
    }
}

private struct UnkeyedValueContainer: UnkeyedDecodingContainer {
    let items: [JSONValue]
    let path: CodingPathNode?
    var codingPath: [any CodingKey] { CodingPathNode.array(path) }
    var currentIndex = 0

    init(items: [JSONValue], path: CodingPathNode?) {
        self.items = items
        self.path = path
    }

    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    private var indexPath: CodingPathNode { CodingPathNode(parent: path, key: AnyKey(index: currentIndex)) }

    private mutating func next() throws -> JSONValue {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(JSONValue.self, .init(codingPath: CodingPathNode.array(indexPath), debugDescription: "unkeyed container is at its end"))
        }
        defer { currentIndex += 1 }
        return items[currentIndex]
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, items[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let here = indexPath
        return try decodeValue(type, from: next(), at: here)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let here = indexPath
        return try ValueDecoder(value: next(), path: here).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let here = indexPath
        return try ValueDecoder(value: next(), path: here).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let here = indexPath
        return ValueDecoder(value: try next(), path: here)
    }
}

private struct SingleValueContainer: SingleValueDecodingContainer {
    let value: JSONValue
    let path: CodingPathNode?
    var codingPath: [any CodingKey] { CodingPathNode.array(path) }

    func decodeNil() -> Bool { value == .null }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try decodeValue(type, from: value, at: path)
    }
}
