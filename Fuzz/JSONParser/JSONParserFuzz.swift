import PFModel

/// libFuzzer target: the strict parser of pfhost's own JSON, the canonical writer and the Codable
/// bridge. Beyond not crashing, it checks the properties the store relies on: canonical bytes parse
/// to the same value and are a fixed point, and a value that decodes as a manifest or an index
/// encodes and decodes back to the same thing.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let value = try? JSONParser.parse(bytes) else { return 0 }
    let canonical = CanonicalJSON.encode(value)
    guard let again = try? JSONParser.parse(canonical), again == value, CanonicalJSON.encode(again) == canonical else {
        fatalError("canonical JSON of a parsed value does not parse back to it")
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
