import PFPluginKit

/// libFuzzer target, compiled with `LedgerValidator.swift` into one module: the side-effect
/// ledger's line and hash-chain checks, over lines from `LineReader`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLedger(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    var reader = LineReader(bytes: Array(UnsafeBufferPointer(start: data, count: size)), name: "fuzz/ledger.jsonl")
    var validator = LedgerValidator(path: "fuzz/ledger.jsonl")
    var lines = 0
    while let line = try? reader.next() {
        lines += 1
        guard (try? validator.check(line)) != nil else { return 0 }
    }
    guard validator.entries == lines, validator.pending <= lines else { fatalError("counts do not match the lines checked") }
    return 0
}
