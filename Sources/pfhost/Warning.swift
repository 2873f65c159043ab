import PFModel
import PFStore

/// Prints `pfhost: warning: <message>` on stderr, escaped like ``fail(_:_:)``'s lines: for damage a
/// command works around (a journal line it skipped) and says so, without failing.
func warn(_ message: CustomStringConvertible) {
    var standardError = StandardError()
    for line in message.description.split(separator: "\n", omittingEmptySubsequences: false) {
        print("pfhost: warning: \(DisplayText.escaped(String(line)))", to: &standardError)
    }
}

/// Warns about each damaged journal line a command skipped.
func warn(skipped damaged: [JournalDamage]) {
    for damage in damaged {
        warn("\(damage); skipped: it decides nothing here (see 'pfhost verify'; 'pfhost gc' refuses to run until it is repaired or removed)")
    }
}

/// Warns about each tag `index.json` lists more than once.
func warn(duplicates: [(tag: String, ids: [Digest])]) {
    for (tag, ids) in duplicates {
        warn("tag '\(tag)' is listed \(ids.count) times in index.json; the first entry (\(Formatting.short(ids[0]))) wins and the others (\(ids.dropFirst().map(Formatting.short).joined(separator: ", "))) are read as untagged snapshots: run 'pfhost tag REF \(tag) --force' or 'pfhost untag \(tag)' to settle it")
    }
}
