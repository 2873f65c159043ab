/// Decodes `Decodable` values straight from a ``JSONValue``, without Foundation's `JSONDecoder`:
/// the fast path of ``CanonicalJSON``. Errors are the standard `DecodingError`s, with coding paths.
///
/// Every integer type decodes from `.int` when the value fits it (an error naming the value and
/// the type otherwise); `Double` and `Float` decode from an integer they hold exactly. `superDecoder()`
/// reads the key `super`.
///
/// Why it cannot recurse forever: the containers' primitive overloads default (in the standard
/// library) to the generic `decode<T>`, and every generic entry point first asks
/// ``primitive(_:from:at:)``, which knows every primitive type, so only a non-primitive type
/// reaches `init(from:)`, which always goes one level down.
enum JSONValueDecoder {
    static func decode<Value: Decodable>(_ type: Value.Type, from value: JSONValue) throws -> Value {
        try decodeValue(type, from: value, at: nil)
    }
}

private func decodeValue<T: Decodable>(_ type: T.Type, from value: JSONValue, at path: CodingPathNode?) throws -> T {
    if let result = try primitive(type, from: value, at: path) { return result }
    return try T(from: ValueDecoder(value: value, path: path))
}

/// `value` as `T` when `T` is ``JSONValue`` or one of Codable's primitive types, found by comparing
/// types (this runs for every value of a manifest); nil for any other type.
@inline(__always)
private func primitive<T>(_ type: T.Type, from value: JSONValue, at path: CodingPathNode?) throws -> T? {
    if T.self == JSONValue.self { return unsafeBitCast(value, to: T.self) }
    if T.self == String.self {
        guard case .string(let text) = value else { throw mismatch(T.self, value, path) }
        return unsafeBitCast(text, to: T.self)
    }
    if T.self == Int.self { return unsafeBitCast(try integer(Int.self, value, path), to: T.self) }
    if T.self == Int64.self { return unsafeBitCast(try integer(Int64.self, value, path), to: T.self) }
    if T.self == Bool.self {
        guard case .bool(let flag) = value else { throw mismatch(T.self, value, path) }
        return unsafeBitCast(flag, to: T.self)
    }
    if T.self == Int32.self { return unsafeBitCast(try integer(Int32.self, value, path), to: T.self) }
    if T.self == UInt32.self { return unsafeBitCast(try integer(UInt32.self, value, path), to: T.self) }
    if T.self == Int16.self { return unsafeBitCast(try integer(Int16.self, value, path), to: T.self) }
    if T.self == UInt16.self { return unsafeBitCast(try integer(UInt16.self, value, path), to: T.self) }
    if T.self == Int8.self { return unsafeBitCast(try integer(Int8.self, value, path), to: T.self) }
    if T.self == UInt8.self { return unsafeBitCast(try integer(UInt8.self, value, path), to: T.self) }
    if T.self == UInt.self { return unsafeBitCast(try integer(UInt.self, value, path), to: T.self) }
    if T.self == UInt64.self { return unsafeBitCast(try integer(UInt64.self, value, path), to: T.self) }
    if T.self == Int128.self { return unsafeBitCast(try integer(Int128.self, value, path), to: T.self) }
    if T.self == UInt128.self { return unsafeBitCast(try integer(UInt128.self, value, path), to: T.self) }
    if T.self == Double.self { return unsafeBitCast(try floatingPoint(Double.self, value, path), to: T.self) }
    if T.self == Float.self { return unsafeBitCast(try floatingPoint(Float.self, value, path), to: T.self) }
    return nil
}

private func integer<I: FixedWidthInteger>(_ type: I.Type, _ value: JSONValue, _ path: CodingPathNode?) throws -> I {
    guard case .int(let number) = value else { throw mismatch(I.self, value, path) }
    guard let result = I(exactly: number) else {
        throw DecodingError.dataCorrupted(.init(codingPath: CodingPathNode.array(path), debugDescription: "\(number) is out of the range of \(I.self)"))
    }
    return result
}

private func floatingPoint<F: BinaryFloatingPoint>(_ type: F.Type, _ value: JSONValue, _ path: CodingPathNode?) throws -> F {
    guard case .int(let number) = value else { throw mismatch(F.self, value, path) }
    guard let result = F(exactly: number) else {
        throw DecodingError.dataCorrupted(.init(codingPath: CodingPathNode.array(path), debugDescription: "\(number) has no exact \(F.self) value"))
    }
    return result
}

/// The error for a value of the wrong kind: `valueNotFound` for null, else `typeMismatch`.
private func mismatch(_ type: Any.Type, _ value: JSONValue, _ path: CodingPathNode?) -> DecodingError {
    let context = DecodingError.Context(codingPath: CodingPathNode.array(path), debugDescription: "expected \(type), found \(kindName(value))")
    return value == .null ? .valueNotFound(type, context) : .typeMismatch(type, context)
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

private struct ValueDecoder: Decoder {
    let value: JSONValue
    let path: CodingPathNode?
    var codingPath: [any CodingKey] { CodingPathNode.array(path) }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else { throw mismatch([String: JSONValue].self, value, path) }
        return KeyedDecodingContainer(KeyedValueContainer<Key>(members: members, path: path))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let items) = value else { throw mismatch([JSONValue].self, value, path) }
        return UnkeyedValueContainer(items: items, path: path)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleValueContainer(value: value, path: path)
    }
}

private struct KeyedValueContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSONValue]
    let path: CodingPathNode?
    var codingPath: [any CodingKey] { CodingPathNode.array(path) }

    private func path(_ key: any CodingKey) -> CodingPathNode { CodingPathNode(parent: path, key: key) }

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

    func decode(_ type: Int128.Type, forKey key: Key) throws -> Int128 {
        try decodeValue(type, from: value(key), at: path(key))
    }

    func decode(_ type: UInt128.Type, forKey key: Key) throws -> UInt128 {
        try decodeValue(type, from: value(key), at: path(key))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try ValueDecoder(value: value(key), path: path(key)).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try ValueDecoder(value: value(key), path: path(key)).unkeyedContainer()
    }

    /// Reads the key `super` (null when absent, as Foundation does), which `Key` need not have a case for.
    func superDecoder() throws -> any Decoder {
        ValueDecoder(value: members["super"] ?? .null, path: path(AnyKey("super")))
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

    mutating func decode(_ type: Int128.Type) throws -> Int128 {
        let here = indexPath
        return try decodeValue(type, from: next(), at: here)
    }

    mutating func decode(_ type: UInt128.Type) throws -> UInt128 {
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

    func decode(_ type: Int128.Type) throws -> Int128 {
        try decodeValue(type, from: value, at: path)
    }

    func decode(_ type: UInt128.Type) throws -> UInt128 {
        try decodeValue(type, from: value, at: path)
    }
}
