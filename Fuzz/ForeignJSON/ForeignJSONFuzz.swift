import PFPluginKit

/// libFuzzer target: the reader of other programs' JSON (`AnyJSON.parse`). Beyond not crashing:
/// reading with `keeping` accepts exactly what a full read accepts, with the same error, and an
/// error's line and column point inside the input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzForeignJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let buffer = UnsafeBufferPointer(start: data, count: size)
    let full: Result<AnyJSON, AnyJSONError> = Result { () throws(AnyJSONError) in try AnyJSON.parse(buffer) }
    let kept: Result<AnyJSON, AnyJSONError> = Result { () throws(AnyJSONError) in try AnyJSON.parse(buffer, keeping: ["role", "id"]) }
    switch (full, kept) {
    case (.success(let value), .success(let partial)):
        if case .object(let members) = value {
            guard partial == .object(members.filter { ["role", "id"].contains($0.key) }) else {
                fatalError("keeping built something other than the kept members")
            }
        } else if partial != value {
            fatalError("keeping changed a value that is not an object")
        }
    case (.failure(let error), .failure(let other)):
        guard error == other else { fatalError("keeping gave another error: \(error) vs \(other)") }
        guard error.offset >= 0, error.offset <= size, error.line >= 1, error.column >= 1, error.column <= error.offset + 1 else {
            fatalError("error position outside the input: \(error)")
        }
    default:
        fatalError("keeping and a full read disagree on whether the input is JSON")
    }
    return 0
}
