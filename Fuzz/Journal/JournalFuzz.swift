import PFModel

/// libFuzzer target, compiled into the PFStore module (JournalRecord is internal): the reader of
/// `ingest/journal.v2` and of `index.json`. Beyond not crashing: the scanner gives the same
/// records and damaged lines however the bytes are split into chunks; every record it accepts
/// writes back to a line it reads as the same record; and the history it leaves names each
/// snapshot once.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJournal(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? IndexDocument.parse(bytes, file: "index.json", store: "store")
    var whole = JournalScanner(file: "journal.v2")
    whole.feed(bytes[...])
    let (records, damaged) = whole.finish()
    var split = JournalScanner(file: "journal.v2")
    let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    split.feed(bytes[..<cut])
    split.feed(bytes[cut...])
    guard split.finish() == (records, damaged) else { fatalError("the scanner's result depends on how the bytes are split") }
    for (number, record) in records.enumerated() {
        guard case .success(record) = JournalRecord.parse(line: Array(record.line.dropLast()), file: "line", number: number + 1) else {
            fatalError("a journal record does not read back from its own line")
        }
    }
    let history = JournalRecord.history(records)
    guard Set(history.map(\.id)).count == history.count else { fatalError("the history names a snapshot twice") }
    return 0
}
