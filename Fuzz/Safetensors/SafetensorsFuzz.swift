/// libFuzzer target, compiled with `SafetensorsHeader.swift` into one module: the check of a
/// whole safetensors file (8-byte length, JSON header, tensors tiling the data).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let header = try? SafetensorsHeader(bytes: bytes, path: "fuzz.safetensors") {
        guard header.tensorCount >= 0, header.dtypes.allSatisfy({ SafetensorsHeader.dtypeSizes[$0] != nil }) else {
            fatalError("a checked header holds an unknown dtype")
        }
    }
    return 0
}
