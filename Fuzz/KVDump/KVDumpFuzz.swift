import PFPluginKit

/// libFuzzer target, compiled with `KVDump.swift` into one module: the check of a KV-cache dump.
/// Input: 8 bytes of `pages.bin` size (little-endian), then `meta.json`, a NUL, `sequences.jsonl`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzKVDump(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard bytes.count >= 8 else { return 0 }
    let pagesSize = bytes[0..<8].withUnsafeBytes { Int64(littleEndian: $0.loadUnaligned(as: Int64.self)) }
    let rest = bytes[8...]
    let split = rest.firstIndex(of: 0) ?? rest.endIndex
    let meta = Array(rest[..<split])
    let sequences = split < rest.endIndex ? Array(rest[(split + 1)...]) : []
    guard let dump = try? KVDump(
        directory: "fuzz", meta: meta, pagesSize: { () throws(PluginError) in pagesSize },
        sequences: { () throws(PluginError) in LineReader(bytes: sequences, name: "fuzz/sequences.jsonl") },
        checkCancelled: { () throws(PluginError) in }) else { return 0 }
    for sequence in dump.sequences {
        guard dump.pageKeys(of: sequence).count == sequence.slots.count else { fatalError("a page without a key") }
        for slot in sequence.slots {
            guard (try? KVDump.checkSlot(slot, within: dump.slotCount, path: "fuzz/pages.bin")) != nil else {
                fatalError("a checked dump holds a slot outside pages.bin")
            }
        }
    }
    return 0
}
