import PFModel

/// One line of `ingest/journal.v2`: a snapshot added to the history or forgotten.
///
/// ```
/// {"created":"2026-11-27T20:25:44Z","digest":"sha256:…","mediaType":"application/vnd.oci.image.index.v1+json","op":"add","size":1342}
/// {"digest":"sha256:…","op":"forget"}
/// ```
enum JournalRecord: Hashable, Sendable {
    case add(HistoryEntry)
    case forget(Digest)

    /// The digest the record is about.
    var digest: Digest {
        switch self {
        case .add(let entry): entry.id
        case .forget(let digest): digest
        }
    }

    /// The record's line: canonical JSON and `\n`.
    var line: [UInt8] {
        let value: JSONValue
        switch self {
        case .add(let entry):
            value = .object(["op": .string("add"), "digest": .string(entry.id.description), "mediaType": .string(entry.root.mediaType),
                             "size": .int(entry.root.size), "created": .string(entry.created)])
        case .forget(let digest):
            value = .object(["op": .string("forget"), "digest": .string(digest.description)])
        }
        return CanonicalJSON.encode(value) + [0x0a]
    }

    /// The records of a journal's bytes. A last line without its newline (an append a crash cut
    /// short) is left out; any other line that is not a record is corruption, reported with its number.
    static func parse(_ bytes: [UInt8], file: String) throws(StoreError) -> [JournalRecord] {
        var records: [JournalRecord] = []
        var start = 0
        var number = 0
        while let end = bytes[start...].firstIndex(of: 0x0a) {
            number += 1
            let lineBytes = Array(bytes[start..<end])
            guard let record = record(lineBytes) else {
                throw .corrupt(file: file, reason: "line \(number) is not a journal record")
            }
            records.append(record)
            start = end + 1
        }
        return records
    }

    private static func record(_ line: [UInt8]) -> JournalRecord? {
        guard let value = try? JSONParser.parse(line), let op = value["op"]?.stringValue,
              let text = value["digest"]?.stringValue, let digest = try? Digest(parsing: text) else { return nil }
        switch op {
        case "forget":
            return .forget(digest)
        case "add":
            guard let mediaType = value["mediaType"]?.stringValue, case .int(let size)? = value["size"], size >= 0,
                  let created = value["created"]?.stringValue else { return nil }
            return .add(HistoryEntry(root: OCIDescriptor(mediaType: mediaType, digest: digest, size: size), created: created))
        default:
            return nil
        }
    }

    /// The history the records leave: each digest whose last record is an `add`, in the order of
    /// those last adds.
    static func history(_ records: [JournalRecord]) -> [HistoryEntry] {
        var last: [Digest: Int] = [:]
        for (position, record) in records.enumerated() { last[record.digest] = position }
        return records.enumerated().compactMap { position, record in
            guard case .add(let entry) = record, last[entry.id] == position else { return nil }
            return entry
        }
    }
}
