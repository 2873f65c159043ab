import PFModel
import PFSystem
#if canImport(Glibc)
import Glibc
#endif

extension SnapshotStore {
    /// What ``collectGarbage(dryRun:)`` removed (or, in a dry run, would remove).
    public struct GarbageCollection: Sendable, Equatable {
        /// Snapshots in the history, whose blobs were kept.
        public var snapshots = 0
        /// Blobs kept.
        public var blobsKept = 0
        /// Blobs removed: no snapshot of the history reaches them.
        public var blobsRemoved = 0
        /// Their bytes.
        public var bytesRemoved: Int64 = 0
        /// Temporary files of writers that are gone, removed.
        public var temporary = Reclaimed()
        /// Journal lines dropped (forgotten snapshots and lines superseded).
        public var journalLinesDropped = 0
    }

    /// Removes every blob no snapshot of the history reaches, the temporary files of writers that
    /// are gone, and the journal's forgotten snapshots. With `dryRun`, only counts.
    ///
    /// Safe beside writers in other processes: it marks without locks, then takes the exclusive
    /// lease on `ingest/gc.lock` (waiting for every writer holding a shared lease, see
    /// ``acquireLease()``) and the index lock, marks what was committed meanwhile, and only then
    /// removes. A document it cannot read stops it before anything is removed.
    ///
    /// Every store object that has written holds its lease until it is released, in this process
    /// too (`flock` makes no exception for its own process): collect garbage from an object that
    /// has not written, once the writers are released. One that has is refused, since it would
    /// wait for itself.
    public func collectGarbage(dryRun: Bool = false) throws(StoreError) -> GarbageCollection {
        if lease.withLock({ $0 != nil }) {
            throw .io(step: "collecting garbage in \(path)", SystemCallError(
                operation: "flock", path: ingestPath + "/gc.lock (this store object holds a write lease: collect garbage from one that has not written)",
                code: EDEADLK))
        }
        var marked = Set<Digest>()
        var done = Set<Digest>()
        var cache: [Digest: [OCIDescriptor]] = [:]
        func mark(_ history: [HistoryEntry]) throws(StoreError) {
            for entry in history where done.insert(entry.id).inserted {
                for blob in try closure(of: entry.id, cache: &cache) { marked.insert(blob.digest) }
            }
        }
        try mark(history())
        let lockPath = ingestPath + "/gc.lock"
        let exclusive = try step("waiting for writers (\(lockPath))") { () throws(SystemCallError) -> Int32 in
            let fd = try openLockFile(lockPath)
            do throws(SystemCallError) { try system.lockExclusive(fd, path: lockPath) } catch {
                try? system.close(fd, path: lockPath)
                throw error
            }
            return fd
        }
        defer { try? system.close(exclusive, path: lockPath) }
        return try withIndexLock { () throws(StoreError) -> GarbageCollection in
            var result = GarbageCollection()
            if !dryRun { _ = try readIndexForWriting() }
            let history = try history()
            try mark(history)
            result.snapshots = history.count
            let records = try readJournal()
            let live = JournalRecord.history(records)
            result.journalLinesDropped = records.count - live.count
            if !dryRun, result.journalLinesDropped > 0 { try rewriteJournal(live.map { .add($0) }) }
            let names = try step("listing \(blobsPath)") { () throws(SystemCallError) in try system.listDirectory(blobsPath) }
            for name in names {
                guard let digest = try? Digest(hex: name) else { continue }
                if marked.contains(digest) {
                    result.blobsKept += 1
                    continue
                }
                let file = blobsPath + "/" + name
                guard let info = try step("checking \(file)", { () throws(SystemCallError) in try system.linkStatus(file) }),
                      info.st_mode & S_IFMT == S_IFREG else { continue }
                if !dryRun { try step("removing \(file)") { () throws(SystemCallError) in try system.unlink(file) } }
                result.blobsRemoved += 1
                result.bytesRemoved += Int64(info.st_size)
            }
            if !dryRun {
                present.withLock { $0.removeAll() }
                if durability != .none, result.blobsRemoved > 0 {
                    try step("flushing \(blobsPath)") { () throws(SystemCallError) in try system.fsyncDirectory(blobsPath) }
                }
            }
            result.temporary = try reclaimAbandonedFiles(dryRun: dryRun)
            return result
        }
    }
}
