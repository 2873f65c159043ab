import PFModel
import PFSystem
#if canImport(Glibc)
import Glibc
#endif

extension SnapshotStore {
    /// What upgrading a store to format 2 did.
    public struct Migration: Sendable, Equatable {
        /// The format the store had: 1, or 2 when there was nothing to do.
        public var from: Int
        /// Snapshots now in the journal.
        public var snapshots: Int
        /// Tags kept in `index.json`.
        public var tags: Int
    }

    /// Upgrades a format-1 store to format 2 in place (see `docs/store-format.md`); a format-2
    /// store is left alone. Crash-safe: a kill at any point leaves a store that reads as before.
    @discardableResult
    public func migrate() throws(StoreError) -> Migration {
        try withIndexLock { () throws(StoreError) -> Migration in
            let index = try readIndexDocument()
            guard index.format == 1 else {
                return Migration(from: 2, snapshots: 0, tags: index.entries.filter { $0.refName != nil }.count)
            }
            return try upgradeLocked(index).migration
        }
    }

    /// The upgrades this store object made (by ``migrate()`` or by a write into a format-1
    /// store), each once: what the command line reports on stderr.
    public func takeUpgrades() -> [Migration] {
        upgrades.withLock { made in
            defer { made.removeAll() }
            return made
        }
    }

    /// Under the index lock: upgrades format-1 `index` to format 2 (the journal first, then the
    /// tags-only index, whose rename is the switch) and returns the new index.
    func upgradeLocked(_ index: IndexDocument) throws(StoreError) -> (index: IndexDocument, migration: Migration) {
        // A journal already there is kept: one an interrupted migration left lists only what
        // index.json lists, and one of a format-2 store whose index lost its format annotation to
        // another tool holds history that must not be lost.
        var records: [JournalRecord] = JournalRecord.history((try? readJournal().records) ?? []).map { .add($0) }
        var seen = Set(records.map(\.digest))
        for entry in index.entries where seen.insert(entry.digest).inserted {
            var created = CreationTime.recordable(entry.annotations?[AnnotationKey.created] ?? "")
            if created.isEmpty, let snapshot = try? snapshot(entry.digest) { created = CreationTime.recordable(snapshot.manifest.createdAt) }
            records.append(.add(HistoryEntry(root: OCIDescriptor(mediaType: entry.mediaType, digest: entry.digest, size: entry.size),
                                             created: created)))
        }
        try rewriteJournal(records)
        var upgraded = IndexDocument(format: 2, entries: index.entries.filter { $0.refName != nil }, annotations: index.annotations,
                                     source: index.source)
        try writeIndex(upgraded)
        upgraded.source = upgraded.encoded()
        return (upgraded, Migration(from: 1, snapshots: records.count, tags: upgraded.entries.count))
    }

    /// Why `name` cannot be a new tag, or nil when it can: the OCI tag grammar (1 to 128 of
    /// `[A-Za-z0-9_.-]`, not starting with `.` or `-`), and not 7 or more hex digits, which would
    /// read as a content-id prefix.
    public static func tagProblem(_ name: String) -> String? {
        IndexDocument.tagProblem(name)
    }

    /// Points tag `name` at the snapshot `reference` names. A tag that names another snapshot is
    /// moved only with `force`.
    ///
    /// - Throws: ``StoreError/invalidReference(_:reason:)`` for a name that cannot be a tag;
    ///   ``StoreError/tagExists(_:id:)`` when it names another snapshot and `force` is false.
    @discardableResult
    public func tag(_ reference: String, as name: String, force: Bool = false) throws(StoreError) -> Digest {
        if let problem = IndexDocument.tagProblem(name) { throw .invalidReference(name, reason: problem) }
        let id = try resolve(reference)
        try withIndexLock { () throws(StoreError) in
            var index = try readIndexForWriting()
            if let current = index.entry(tagged: name)?.digest {
                if current == id { return }
                if !force { throw .tagExists(name, id: current) }
            }
            let entry = try historyEntry(of: id)
            index.setTag(name, to: entry.root, created: entry.created)
            try writeIndex(index)
        }
        return id
    }

    /// Removes tag `name`; its snapshot stays in the history.
    ///
    /// - Returns: the snapshot it named.
    @discardableResult
    public func untag(_ name: String) throws(StoreError) -> Digest {
        try withIndexLock { () throws(StoreError) -> Digest in
            var index = try readIndexForWriting()
            guard let entry = index.entry(tagged: name) else { throw .noSuchTag(name: name, store: path) }
            // A snapshot another tool added to index.json has no journal line yet: give it one.
            if !JournalRecord.history(try readJournal().records).contains(where: { $0.id == entry.digest }) {
                let created = CreationTime.recordable(entry.annotations?[AnnotationKey.created] ?? "")
                try appendJournal([.add(HistoryEntry(root: OCIDescriptor(mediaType: entry.mediaType, digest: entry.digest, size: entry.size),
                                                     created: created))])
            }
            _ = index.removeTag(name)
            try writeIndex(index)
            return entry.digest
        }
    }

    /// The history entry of snapshot `id`, journaling it when it is in the store but not in the
    /// history (a forgotten snapshot that `gc` has not removed, reached by `REF~N`).
    private func historyEntry(of id: Digest) throws(StoreError) -> HistoryEntry {
        if let entry = try history().first(where: { $0.id == id }) { return entry }
        let snapshot = try snapshot(id)
        let entry = HistoryEntry(root: snapshot.root, created: CreationTime.recordable(snapshot.manifest.createdAt))
        try appendJournal([.add(entry)])
        return entry
    }

    /// Takes snapshots out of the history, with their tags. Their blobs stay until
    /// ``collectGarbage(dryRun:)``; their children keep their parent ids.
    public func forget(_ ids: Set<Digest>) throws(StoreError) {
        guard !ids.isEmpty else { return }
        try withIndexLock { () throws(StoreError) in
            var index = try readIndexForWriting()
            let count = index.entries.count
            index.remove(ids)
            if index.entries.count != count { try writeIndex(index) }
            try appendJournal(ids.sorted().map { .forget($0) })
        }
    }

    /// Records a snapshot whose blobs are all in the store already (the way a pull commits):
    /// checks that its root and every document are present and well formed and every blob it
    /// reaches is present with its size, then journals it and moves `tag` to it.
    ///
    /// - Throws: ``StoreError/missingBlob(_:store:)`` naming the first blob missing;
    ///   ``StoreError/corrupt(file:reason:)`` for a damaged or ill-formed document.
    @discardableResult
    public func adoptSnapshot(root: OCIDescriptor, tag: String?) throws(StoreError) -> Snapshot {
        if let tag, let problem = IndexDocument.tagProblem(tag) { throw .invalidReference(tag, reason: problem) }
        try acquireLease()
        guard try size(of: root.digest) == root.size else { throw .missingBlob(root.digest, store: path) }
        let snapshot = try snapshot(root.digest)
        for blob in snapshot.closure where try size(of: blob.digest) != blob.size {
            throw .missingBlob(blob.digest, store: path)
        }
        try withIndexLock { () throws(StoreError) in
            var index = try readIndexForWriting()
            let entry = HistoryEntry(root: snapshot.root, created: CreationTime.recordable(snapshot.manifest.createdAt))
            try appendJournal([.add(entry)])
            if let tag {
                index.setTag(tag, to: entry.root, created: entry.created)
                try writeIndex(index)
            }
        }
        return snapshot
    }

    /// Takes this store object's lease: a shared `flock` on `ingest/gc.lock`, held until the
    /// object is released, so that `gc` in any process waits until this writer has committed
    /// before it removes a blob. Writing a blob takes it; ``Snapshotter`` takes it before it reads
    /// a parent. Taking it forgets which blobs this object saw present (a gc may have run before).
    public func acquireLease() throws(StoreError) {
        try lease.withLock { (fd) throws(StoreError) in
            guard fd == nil else { return }
            let lockPath = ingestPath + "/gc.lock"
            fd = try lockStep(lockPath, "taking the write lease (\(lockPath))") { () throws(SystemCallError) -> Int32 in
                let first = try openLockFile(lockPath)
                // Held for the object's life: never as descriptor 0, 1 or 2, which a process started
                // with stdout closed would otherwise print the content id into.
                let opened: Int32
                do throws(SystemCallError) { opened = try system.duplicate(first, minimum: 3, path: lockPath) } catch {
                    try? system.close(first, path: lockPath)
                    throw error
                }
                try? system.close(first, path: lockPath)
                do throws(SystemCallError) { try system.lockShared(opened, path: lockPath) } catch {
                    try? system.close(opened, path: lockPath)
                    throw error
                }
                return opened
            }
            present.withLock { $0.removeAll() }
        }
    }
}
