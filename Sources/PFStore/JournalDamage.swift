/// A line of `ingest/journal.v2` that is not a journal record: too long, not JSON, or a record
/// whose fields do not check (a `created` that is no creation time, a negative size, an unknown
/// operation).
///
/// Readers skip such a line and report it; it decides nothing (no ordering, no retention), and
/// `gc` refuses to remove anything while the journal has one, since it cannot know which
/// snapshot the line meant to keep.
public struct JournalDamage: Error, Hashable, Sendable, CustomStringConvertible {
    /// The journal's path.
    public let file: String
    /// The line's number, from 1.
    public let line: Int
    /// What is wrong with it.
    public let reason: String

    public var description: String { "\(file) line \(line) is damaged: \(reason)" }
}
