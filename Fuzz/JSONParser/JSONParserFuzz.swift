import PFModel

/// libFuzzer target: the strict parser of pfhost's own JSON (and its reading of other programs'
/// JSON, `otherPrograms`), the canonical writer and the Codable bridge. Beyond not crashing, it checks the properties the store relies on: canonical bytes parse
/// to the same value and are a fixed point, and a value that decodes as a manifest or an index
/// encodes and decodes back to the same thing. `CanonicalObject` recognises bytes exactly when they
/// are the canonical JSON of an object (keys in printable ASCII), and `removing` agrees with the parser;
/// an OCI manifest's `canonicalJSON` is its `CanonicalJSON.encode`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let recognised = CanonicalObject(bytes)
    // Reading other programs' JSON (verify's reading of ledgers and conversations) never crashes,
    // and takes whatever the strict parser takes as the same value.
    let lenient = try? JSONParser.parse(bytes, otherPrograms: true)
    // Building only some top-level members gives the same verdict and those members as they are.
    let keys: Set<String> = ["a", "id", "role", "tool_calls"]
    let kept = try? JSONParser.parse(bytes, otherPrograms: true, keeping: keys)
    if (kept == nil) != (lenient == nil) { fatalError("keeping members changes the verdict") }
    if case .object(let all)? = lenient, kept != .object(all.filter { keys.contains($0.key) }) {
        fatalError("the members kept differ from the whole object's")
    }
    if let lenient, lenient.objectValue == nil, kept != lenient { fatalError("keeping changed a value that is not an object") }
    guard let value = try? JSONParser.parse(bytes) else {
        if recognised != nil { fatalError("CanonicalObject recognised bytes the parser refuses") }
        return 0
    }
    if lenient != value { fatalError("the otherPrograms reading differs from the strict one on JSON both take") }
    checkCanonicalObject(recognised, bytes: bytes, value: value)
    let canonical = CanonicalJSON.encode(value)
    guard let again = try? JSONParser.parse(canonical), again == value, CanonicalJSON.encode(again) == canonical else {
        fatalError("canonical JSON of a parsed value does not parse back to it")
    }
    if let manifest = try? CanonicalJSON.decode(OCIManifest.self, from: value), (try? CanonicalJSON.encode(manifest)) != manifest.canonicalJSON {
        fatalError("OCIManifest.canonicalJSON differs from CanonicalJSON.encode")
    }
    roundTrip(Manifest.self, value)
    roundTrip(OCIIndex.self, value)
    roundTrip(OCIManifest.self, value)
    roundTrip(CacheLayer.self, value)
    roundTrip(WorldLayer.self, value)
    return 0
}

/// Decodes `type` from `value`; when that works, encoding and decoding again gives the same value.
private func roundTrip<T: Codable & Equatable>(_ type: T.Type, _ value: JSONValue) {
    guard let decoded = try? CanonicalJSON.decode(type, from: value) else { return }
    guard let encoded = try? CanonicalJSON.jsonValue(of: decoded), let back = try? CanonicalJSON.decode(type, from: encoded),
          back == decoded else {
        fatalError("\(T.self) decoded from JSON does not survive encoding and decoding")
    }
}

/// `recognised` (what CanonicalObject said of `bytes`, which parse as `value`) is right.
private func checkCanonicalObject(_ recognised: CanonicalObject?, bytes: [UInt8], value: JSONValue) {
    guard case .object(let members) = value else {
        if recognised != nil { fatalError("CanonicalObject recognised a value that is not an object") }
        return
    }
    let canonical = CanonicalJSON.encode(value) == bytes
    guard let recognised else {
        // A no is allowed for canonical bytes only when some key is outside printable ASCII or has an escape.
        if canonical && !hasUnusualKey(value) { fatalError("CanonicalObject refused canonical bytes") }
        return
    }
    guard canonical else { fatalError("CanonicalObject recognised bytes that are not canonical") }
    for key in ["plugin", "kind", "a"] {
        var without = members
        without[key] = nil
        guard recognised.removing(key) == CanonicalJSON.encode(.object(without)) else { fatalError("CanonicalObject.removing(\(key)) is wrong") }
    }
    if recognised.string("kind") != nil, case .string(let kind)? = members["kind"], recognised.string("kind") != kind {
        fatalError("CanonicalObject.string(kind) is wrong")
    }
}

private func hasUnusualKey(_ value: JSONValue) -> Bool {
    switch value {
    case .object(let members):
        members.contains { key, member in key.utf8.contains { !(0x20...0x7e).contains($0) || $0 == 0x22 || $0 == 0x5c } || hasUnusualKey(member) }
    case .array(let items): items.contains(where: hasUnusualKey)
    default: false
    }
}
