import PFModel
import PFPluginKit

/// Checks a side-effect ledger line by line, following its hash chain.
///
/// Each line is a JSON object: `id`, `time`, `kind`, `target`, `idempotency_key` (strings),
/// `status` (`pending`, `committed` or `compensated`) and `prev`: null on the first line, else
/// `sha256:` + the hex SHA-256 of the previous line's bytes (without its newline).
///
/// Kept apart from the capture so that it can be run on bytes alone (tests, fuzzing).
struct LedgerValidator {
    /// The file, as errors name it.
    let path: String
    /// The digest of the last line checked: what the next line's `prev` must be.
    private(set) var previous: Digest?
    /// Entries checked so far.
    private(set) var entries: Int
    /// Of those, the ones still `pending`.
    private(set) var pending: Int

    /// The members an entry is checked by; any others are checked as JSON but never built.
    static let members: Set<String> = ["id", "time", "kind", "target", "idempotency_key", "status", "prev"]

    /// A validator continuing a chain whose last line hashed to `previous`.
    init(path: String, previous: Digest? = nil, entries: Int = 0, pending: Int = 0) {
        self.path = path
        self.previous = previous
        self.entries = entries
        self.pending = pending
    }

    /// Checks the next entry.
    mutating func check(_ line: LineReader.Line) throws(PluginError) {
        let entry = try JSONLine.object(line, in: path, keeping: Self.members)
        for key in ["id", "time", "kind", "target", "idempotency_key"] {
            _ = try JSONLine.string(entry, key, line: line.number, in: path)
        }
        let status = try JSONLine.string(entry, "status", line: line.number, in: path)
        switch status {
        case "pending": pending += 1
        case "committed", "compensated": break
        default: throw .invalid("\(path): line \(line.number): status '\(status)' is not pending, committed or compensated")
        }
        let prev = entry["prev"]?.stringValue
        if let previous {
            guard prev == previous.description else {
                throw .invalid("\(path): line \(line.number): the hash chain is broken: prev is \(prev ?? "null"), expected \(previous) (the SHA-256 of line \(line.number - 1))")
            }
        } else if prev != nil || (entry["prev"] != nil && entry["prev"] != .null) {
            throw .invalid("\(path): line \(line.number): prev must be null on the first entry")
        }
        previous = Digest.of(line.bytes)
        entries += 1
    }
}
