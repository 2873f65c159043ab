import ArgumentParser
import PFModel
import PFStore

/// `pfhost forget`: take snapshots out of the history.
struct ForgetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Take snapshots out of the history, by reference or by a --keep-* policy; 'pfhost gc' then reclaims their space.",
        discussion: """
            With a policy, every snapshot (or, with --tag, every snapshot of that tag's chain of first parents) that no \
            --keep-* rule keeps is forgotten; tagged snapshots are always kept. --keep-daily N keeps the newest snapshot of \
            each of the N newest days that have one (likewise hourly, monthly, yearly; by created_at, UTC). Children keep \
            their parents' ids: history becomes shallow there.
            """)

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: "Snapshots to forget (their tags go too).")
    var references: [String] = []

    @Option(help: "Keep the N newest snapshots.") var keepLast: Int?
    @Option(help: "Keep the newest snapshot of each of the N newest hours.") var keepHourly: Int?
    @Option(help: "Keep the newest snapshot of each of the N newest days.") var keepDaily: Int?
    @Option(help: "Keep the newest snapshot of each of the N newest months.") var keepMonthly: Int?
    @Option(help: "Keep the newest snapshot of each of the N newest years.") var keepYearly: Int?

    @Option(help: "Apply the policy to this tag's chain of first parents only.")
    var tag: String?

    @Flag(help: "Only say what would be forgotten.")
    var dryRun = false

    @Flag(help: "Print {\"schema\":\"pfhost.forget/1\",\"dry_run\":…,\"forgotten\":[…],\"kept\":[…]}.")
    var json = false

    /// Each policy's bucket: the length of the `created_at` prefix that names an hour, day, month, year.
    private var buckets: [(count: Int, prefix: Int)] {
        [(keepHourly, 13), (keepDaily, 10), (keepMonthly, 7), (keepYearly, 4)].compactMap { rule in rule.0.map { ($0, rule.1) } }
    }

    func validate() throws {
        let hasPolicy = keepLast != nil || !buckets.isEmpty
        if !references.isEmpty && hasPolicy {
            throw ValidationError("give snapshots to forget or a --keep-* policy, not both (the policy already chooses the snapshots)")
        }
        if references.isEmpty && !hasPolicy {
            throw ValidationError("give the snapshots to forget, or a policy such as --keep-last N or --keep-daily N")
        }
        if tag != nil && !hasPolicy { throw ValidationError("--tag applies to a --keep-* policy") }
        for count in [keepLast, keepHourly, keepDaily, keepMonthly, keepYearly].compactMap({ $0 }) where count < 0 {
            throw ValidationError("a --keep-* count is 0 or more")
        }
    }

    func run() throws {
        let store = try storeOptions.open()
        let forgotten: [Digest]
        let kept: [Digest]
        do {
            (forgotten, kept) = try plan(store)
            if !dryRun { try store.forget(Set(forgotten)) }
        } catch {
            throw fail(error, ExitStatus.of(error))
        }
        StoreOptions.reportUpgrades(store)
        if json {
            JSONOutput.print(.object([
                "schema": .string("pfhost.forget/1"), "dry_run": .bool(dryRun),
                "forgotten": JSONOutput.ids(forgotten), "kept": JSONOutput.ids(kept),
            ]))
        } else {
            for id in forgotten { print("\(dryRun ? "would forget" : "forgot") \(Formatting.short(id))") }
            print("\(dryRun ? "would forget" : "forgot") \(Formatting.count(forgotten.count, "snapshot")), kept \(kept.count); run 'pfhost gc' to reclaim their space")
        }
        try flushStandardOutput(done: dryRun ? nil : "the snapshots are forgotten: see 'pfhost log'")
    }

    /// The snapshots to forget and those kept, newest first.
    private func plan(_ store: SnapshotStore) throws(StoreError) -> (forget: [Digest], keep: [Digest]) {
        if !references.isEmpty {
            var ids: [Digest] = []
            for reference in references {
                let id = try store.resolve(reference)
                if !ids.contains(id) { ids.append(id) }
            }
            return (ids, [])
        }
        let (history, damaged) = try ListCommand.history(store, tag: tag)
        warn(skipped: damaged)
        // Ranked by the time each snapshot records itself. One whose time cannot be read, is not
        // a creation time, or lies more than a day ahead is kept and named: no rule may drop a
        // snapshot (or another one, by ranking it lower) on the strength of such a date.
        let now = CreationTime.now()
        var ranked: [(entry: HistoryEntry, created: String)] = []
        var unranked: [Digest] = []
        for entry in history {
            let created: String
            do { created = try store.header(entry.id).createdAt } catch {
                warn("kept \(Formatting.short(entry.id)): its creation time cannot be read (\(error)); forget it by id if it should go")
                unranked.append(entry.id)
                continue
            }
            guard let time = CreationTime(parsing: created), !time.isInTheFuture(of: now) else {
                warn("kept \(Formatting.short(entry.id)): it says it was created '\(created)', \(CreationTime(parsing: created) == nil ? "not a time" : "more than a day from now"), so no --keep-* rule can rank it; forget it by id if it should go")
                unranked.append(entry.id)
                continue
            }
            if !entry.created.isEmpty && entry.created != created {
                warn("\(Formatting.short(entry.id)): the journal records it as created '\(entry.created)', the snapshot says '\(created)': ranked by the snapshot's (see 'pfhost verify')")
            }
            ranked.append((entry, created))
        }
        let ordered = ListCommand.newestFirst(ranked, created: \.created)
        let entries = ordered.map(\.entry)
        // Every snapshot an entry of index.json tags is kept, a tag listed twice included.
        let duplicates = try store.duplicateTags()
        warn(duplicates: duplicates)
        let tagged = Set(try store.tags().keys).union(duplicates.flatMap(\.ids))
        var keep = Set(entries.prefix(keepLast ?? 0).map(\.id))
        for bucket in buckets {
            var seen: [Substring] = []
            for (entry, created) in ordered {
                let key = created.prefix(bucket.prefix)
                if seen.count >= bucket.count { break }
                if seen.last != key {
                    seen.append(key)
                    keep.insert(entry.id)
                }
            }
        }
        let forget = entries.filter { !keep.contains($0.id) && !tagged.contains($0.id) }.map(\.id)
        let kept = entries.filter { keep.contains($0.id) || tagged.contains($0.id) }.map(\.id) + unranked
        return (forget, kept)
    }
}
