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

    /// The record on one line (without its newline), or why the line is damaged: not a JSON
    /// object, an unknown `op`, a digest that is not `sha256:<64 hex>`, and for an `add` a media
    /// type other than an OCI index or manifest, a size below 1, or a `created` that is neither
    /// empty (unknown) nor a creation time (``CreationTime``).
    static func parse(line: [UInt8], file: String, number: Int) -> Result<JournalRecord, JournalDamage> {
        func damaged(_ reason: String) -> Result<JournalRecord, JournalDamage> {
            .failure(JournalDamage(file: file, line: number, reason: reason))
        }
        let value: JSONValue
        do { value = try JSONParser.parse(line) } catch { return damaged("not JSON: \(error)") }
        guard case .object = value else { return damaged("not a JSON object") }
        guard let text = value["digest"]?.stringValue else { return damaged("no digest") }
        let digest: Digest
        do { digest = try Digest(parsing: text) } catch { return damaged("digest '\(text)' is not sha256:<64 hex>") }
        switch value["op"]?.stringValue {
        case "forget":
            return .success(.forget(digest))
        case "add":
            guard let mediaType = value["mediaType"]?.stringValue, [MediaType.ociIndex, MediaType.ociManifest].contains(mediaType) else {
                return damaged("mediaType is not \(MediaType.ociIndex) or \(MediaType.ociManifest)")
            }
            guard case .int(let size)? = value["size"], size > 0 else { return damaged("size is not a whole number of bytes above 0") }
            guard let created = value["created"]?.stringValue else { return damaged("no created") }
            guard created.isEmpty || CreationTime(parsing: created) != nil else { return damaged(CreationTime.problem(created)) }
            return .success(.add(HistoryEntry(root: OCIDescriptor(mediaType: mediaType, digest: digest, size: size), created: created)))
        default:
            return damaged("op is not \"add\" or \"forget\"")
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
