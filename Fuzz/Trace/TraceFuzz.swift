import PFPluginKit

/// libFuzzer target, compiled with `TraceValidator.swift` into one module: the chat trace's
/// message checks (roles, tool calls answered once), over lines from `LineReader`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTrace(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    var reader = LineReader(bytes: Array(UnsafeBufferPointer(start: data, count: size)), name: "fuzz/trace.jsonl")
    var validator = TraceValidator(path: "fuzz/trace.jsonl")
    var lines = 0
    while let line = try? reader.next() {
        lines += 1
        guard (try? validator.check(line)) != nil else { return 0 }
    }
    guard validator.count == lines else { fatalError("the count does not match the lines checked") }
    return 0
}
