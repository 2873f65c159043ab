import PFModel

/// libFuzzer target, compiled into the PFStore module (JournalRecord is internal): the reader of
/// `ingest/journal.v2` and of `index.json`. Beyond not crashing: every record the journal reader
/// accepts writes back to a line it reads as the same record, and the history it leaves names
/// each snapshot once.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJournal(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? IndexDocument.parse(bytes, file: "index.json", store: "store")
    guard let records = try? JournalRecord.parse(bytes, file: "journal.v2") else { return 0 }
    for record in records {
        guard (try? JournalRecord.parse(record.line, file: "line")) == [record] else {
            fatalError("a journal record does not read back from its own line")
        }
    }
    let history = JournalRecord.history(records)
    guard Set(history.map(\.id)).count == history.count else { fatalError("the history names a snapshot twice") }
    return 0
}
