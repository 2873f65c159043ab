import PFModel
import PFSystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension SnapshotStore {
    /// The store's `index.json`, decoded (format 2: one entry per tag; format 1: every snapshot).
    ///
    /// - Throws: ``StoreError/corrupt(file:reason:)`` when it is not a valid OCI image index.
    public func readIndex() throws(StoreError) -> OCIIndex {
        let document = try readIndexDocument()
        return OCIIndex(manifests: document.entries)
    }

    /// The store format `index.json` says: 1 or 2.
    public func format() throws(StoreError) -> Int {
        try readIndexDocument().format
    }

    func readIndexDocument() throws(StoreError) -> IndexDocument {
        let bytes: [UInt8]
        do { bytes = try system.readFile(indexPath, followSymlinks: false) } catch where error.isOpenOfNonRegularFile {
            throw .corrupt(file: indexPath, reason: Self.notRegularDocument("index.json"))
        } catch {
            throw .io(step: "reading \(indexPath)", error)
        }
        return try IndexDocument.parse(bytes, file: indexPath, store: path)
    }

    /// Why a store document that is a symlink, directory, FIFO or device cannot be read.
    static func notRegularDocument(_ name: String) -> String {
        "it is not a regular file (a symlink, a directory, a FIFO or a device where \(name) belongs); pfhost never follows a link inside a store or opens anything else there: put the store's \(name) back in its place"
    }

    /// Commits a snapshot: stores its documents (see `docs/store-format.md`), flushes, appends it
    /// to the journal and moves `tag` to it. When this throws, the snapshot is not in the history.
    ///
    /// - Returns: the snapshot's content id, the digest of its snapshot index.
    /// - Throws: ``StoreError/missingBlob(_:store:)`` when a layer names a blob the store
    ///   lacks; ``StoreError/io(step:_:)`` naming the step that failed.
    @discardableResult
    public func commitSnapshot(_ manifest: Manifest, tag: String? = nil) throws(StoreError) -> Digest {
        try commit(manifest, tag: tag, onTagHead: false).id
    }

    /// Commits a snapshot as ``commitSnapshot(_:tag:)`` does; with `onTagHead`, onto `tag`'s head
    /// as it is at the commit point.
    ///
    /// `onTagHead` is for a snapshot whose first parent is the head `tag` had when its capture
    /// began. Other processes may have moved the tag since; the head is read again under the index
    /// lock, and when it moved, the manifest's first parent becomes the new head (its layers are
    /// unchanged: parents are history, never content) and the snapshot index is written again, so
    /// that concurrent writers to one tag form one chain instead of losing history.
    ///
    /// `reusing` names layers that are a parent's layer unchanged, each with the stored config that
    /// holds its canonical JSON byte for byte (``StoredLayer/config``, of a layer stamped by the same
    /// plugin): these are not encoded again, and their blobs, which the caller has just checked to be
    /// in the store with their sizes, are not looked up again. On a warm snapshot of a large agent,
    /// encoding and checking unchanged layers was most of the commit.
    ///
    /// - Returns: the content id and the manifest committed (its parents as committed).
    public func commit(_ manifest: Manifest, tag: String?, onTagHead: Bool,
                       reusing: [LayerKind: OCIDescriptor] = [:]) throws(StoreError) -> (id: Digest, manifest: Manifest) {
        if let tag, let problem = IndexDocument.tagProblem(tag) { throw .invalidReference(tag, reason: problem) }
        try acquireLease()
        var manifest = manifest
        while true {
            let root = try storeDocuments(of: manifest, reusing: reusing)
            let follow = onTagHead ? tag.map { (tag: $0, head: manifest.parents.first) } : nil
            let moved = try withIndexLock { () throws(StoreError) -> Digest? in
                var index = try readIndexForWriting()
                if let follow, let current = index.entry(tagged: follow.tag)?.digest, current != follow.head { return current }
                try appendJournal([.add(HistoryEntry(root: root, created: CreationTime.recordable(manifest.createdAt)))])
                if let tag {
                    index.setTag(tag, to: root, created: manifest.createdAt)
                    try writeIndex(index)
                }
                return nil
            }
            guard let head = moved else { return (root.digest, manifest) }
            manifest.parents = [head] + manifest.parents.dropFirst().filter { $0 != head }
        }
    }

    /// Runs `body` holding the exclusive `flock` on `ingest/index.lock`, which serialises every
    /// change to `index.json` and the journal.
    func withIndexLock<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        let lockPath = ingestPath + "/index.lock"
        let lock = try lockStep(lockPath, "locking the index (\(lockPath))") { () throws(SystemCallError) in
            let fd = try openLockFile(lockPath)
            do throws(SystemCallError) {
                try system.lockExclusive(fd, path: lockPath)
            } catch {
                try? system.close(fd, path: lockPath)
                throw error
            }
            return fd
        }
        // Closing the descriptor releases the lock.
        defer { try? system.close(lock, path: lockPath) }
        return try body()
    }

    /// ``step(_:_:)`` for work on the lock file `lockPath`: when the file cannot be opened as a
    /// regular file (a symlink, `ELOOP`; a directory or a FIFO), the store is damaged there, and the
    /// error says so and what to do instead of giving the raw errno.
    func lockStep<T>(_ lockPath: String, _ what: @autoclosure () -> String, _ body: () throws(SystemCallError) -> T) throws(StoreError) -> T {
        do {
            return try body()
        } catch where error.path == lockPath && error.isOpenOfNonRegularFile {
            throw .corrupt(file: lockPath, reason: "it is not a regular file (a symlink, a directory or a FIFO where a lock file belongs); pfhost never follows a link inside a store: remove it, and the next command creates it again")
        } catch {
            throw .io(step: what(), error)
        }
    }

    /// Opens (creating) a lock file in `ingest/`: never through a symlink (it could make pfhost
    /// create a file anywhere), never a FIFO.
    func openLockFile(_ lockPath: String) throws(SystemCallError) -> Int32 {
        let fd = try system.open(lockPath, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK, mode: 0o644)
        do throws(SystemCallError) {
            guard try system.status(fd, path: lockPath).st_mode & S_IFMT == S_IFREG else {
                throw SystemCallError(operation: "open", path: lockPath, code: EINVAL)
            }
        } catch {
            try? system.close(fd, path: lockPath)
            throw error
        }
        return fd
    }

    /// Under the index lock: `index.json`, a format-1 store being upgraded to format 2 first.
    func readIndexForWriting() throws(StoreError) -> IndexDocument {
        let index = try readIndexDocument()
        guard index.format == 1 else { return index }
        let (upgraded, migration) = try upgradeLocked(index)
        upgrades.withLock { $0.append(migration) }
        return upgraded
    }

    /// Under the index lock: writes `ingest/index.json.tmp`, fsyncs it, renames it over
    /// `index.json`, fsyncs the store directory. When that last fsync fails the previous index
    /// (`index.source`) is put back, so a failed update is never visible.
    func writeIndex(_ index: IndexDocument) throws(StoreError) {
        let temporary = ingestPath + "/index.json.tmp"
        let sync = durability != .none
        try step("writing \(temporary)") { () throws(SystemCallError) in try system.writeFile(temporary, index.encoded(), sync: sync) }
        try step("replacing \(indexPath)") { () throws(SystemCallError) in try system.rename(temporary, indexPath) }
        guard sync else { return }
        do {
            try system.fsyncDirectory(path)
        } catch {
            try? system.writeFile(temporary, index.source, sync: true)
            try? system.rename(temporary, indexPath)
            throw .io(step: "flushing \(path) after replacing index.json (the previous index was restored)", error)
        }
    }

    var journalPath: String { ingestPath + "/journal.v2" }

    /// The journal's `lstat`, nil when there is none. Anything but a regular file there is damage
    /// and is never opened (a FIFO's writer would wake, a device act on its open).
    private func journalStatus(step what: @autoclosure () -> String) throws(StoreError) -> stat? {
        let file = journalPath
        let info = try step(what()) { () throws(SystemCallError) in try system.linkStatus(file) }
        if let info, info.st_mode & S_IFMT != S_IFREG { throw .corrupt(file: file, reason: Self.notRegularDocument("the journal")) }
        return info
    }

    /// Under the index lock: appends `records` to the journal in one write and makes them durable
    /// (not in `none`). A last line a crash cut short is cut off first.
    func appendJournal(_ records: [JournalRecord]) throws(StoreError) {
        guard !records.isEmpty else { return }
        let file = journalPath
        let sync = durability != .none
        let found = try journalStatus(step: "appending to \(file)")
        try step("appending to \(file)") { () throws(SystemCallError) in
            let existed = found != nil
            let fd = try system.open(file, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, mode: 0o644)
            defer { try? system.close(fd, path: file) }
            let info = try system.status(fd, path: file)
            guard info.st_mode & S_IFMT == S_IFREG else { throw SystemCallError(operation: "open", path: file, code: EINVAL) }
            let size = Int64(info.st_size)
            if size > 0, let keep = try wholeLines(fd, size: size), keep != size {
                try system.truncate(fd, to: keep, path: file)
            }
            let whole = try system.status(fd, path: file).st_size
            let bytes = records.flatMap(\.line)
            do throws(SystemCallError) {
                try withBytes(bytes) { (raw) throws(SystemCallError) in try system.write(fd, raw.baseAddress!, count: raw.count, path: file) }
                if sync {
                    try system.fsync(fd, path: file)
                    if !existed { try system.fsyncDirectory(ingestPath) }
                }
            } catch {
                // Not durable, so not committed: take the lines back out.
                try? system.truncate(fd, to: Int64(whole), path: file)
                throw error
            }
        }
    }

    /// The length of the journal's whole lines: `size` when its last byte is a newline (one
    /// byte read: a commit never reads the journal), else the offset after the last newline, looked
    /// for backwards 64 KiB at a time (0 when there is none), so that a new line never continues
    /// the cut one, however long.
    private func wholeLines(_ fd: Int32, size: Int64) throws(SystemCallError) -> Int64? {
        var last: [UInt8] = [0]
        _ = try withBytes(&last) { (raw) throws(SystemCallError) in try system.readFully(fd, into: raw, at: size - 1, path: journalPath) }
        if last[0] == 0x0a { return size }
        var end = size - 1
        while end > 0 {
            let window = min(end, Int64(JournalScanner.lineLimit))
            var tail = [UInt8](repeating: 0, count: Int(window))
            _ = try withBytes(&tail) { (raw) throws(SystemCallError) in try system.readFully(fd, into: raw, at: end - window, path: journalPath) }
            if let newline = tail.lastIndex(of: 0x0a) { return end - window + Int64(newline) + 1 }
            end -= window
        }
        return 0
    }

    /// Under the index lock: replaces the journal with `records` (temporary file, fsync, rename, fsync).
    func rewriteJournal(_ records: [JournalRecord]) throws(StoreError) {
        let temporary = journalPath + ".tmp"
        let sync = durability != .none
        try step("rewriting \(journalPath)") { () throws(SystemCallError) in
            try system.writeFile(temporary, records.flatMap(\.line), sync: sync)
            try system.rename(temporary, journalPath)
            if sync { try system.fsyncDirectory(ingestPath) }
        }
    }

    /// The journal's records and its damaged lines; none when it does not exist. Read in chunks
    /// of 1 MiB, never more than one line (at most 64 KiB) gathered at a time.
    func readJournal() throws(StoreError) -> (records: [JournalRecord], damaged: [JournalDamage]) {
        let file = journalPath
        _ = try journalStatus(step: "reading \(file)")
        let fd: Int32
        do {
            fd = try system.open(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)
        } catch where error.code == ENOENT {
            return ([], [])
        } catch where error.code == ELOOP {
            throw .corrupt(file: file, reason: Self.notRegularDocument("the journal"))
        } catch {
            throw .io(step: "reading \(file)", error)
        }
        defer { try? system.close(fd, path: file) }
        var scanner = JournalScanner(file: file)
        try step("reading \(file)") { () throws(SystemCallError) in
            guard try system.status(fd, path: file).st_mode & S_IFMT == S_IFREG else {
                throw SystemCallError(operation: "read", path: file, code: EINVAL)
            }
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            var offset: Int64 = 0
            while true {
                let count = try withBytes(&buffer) { (raw) throws(SystemCallError) in
                    try system.read(fd, into: raw.baseAddress!, count: raw.count, at: offset, path: file)
                }
                if count == 0 { break }
                scanner.feed(buffer[0..<count])
                offset += Int64(count)
            }
        }
        return scanner.finish()
    }

    /// Every snapshot of the store's history, in the order they were added: the journal's, then
    /// those only `index.json` lists (format 1: the index's entries). Damaged journal lines are
    /// skipped (``historyWithDamage()`` reports them).
    public func history() throws(StoreError) -> [HistoryEntry] {
        try historyWithDamage().entries
    }

    /// The history as ``history()`` gives it, and the journal's damaged lines, which it skipped:
    /// a reader reports them, and `gc` refuses to run while there is any.
    public func historyWithDamage() throws(StoreError) -> (entries: [HistoryEntry], damaged: [JournalDamage]) {
        let index = try readIndexDocument()
        var damaged: [JournalDamage] = []
        var entries: [HistoryEntry] = []
        if index.format == 2 {
            let journal = try readJournal()
            entries = JournalRecord.history(journal.records)
            damaged = journal.damaged
        }
        var seen = Set(entries.map(\.id))
        for entry in index.entries where seen.insert(entry.digest).inserted {
            entries.append(HistoryEntry(root: entry, created: CreationTime.recordable(entry.annotations?[AnnotationKey.created] ?? "")))
        }
        return (entries, damaged)
    }

    /// The tags of each snapshot that has one.
    public func tags() throws(StoreError) -> [Digest: [String]] {
        var tags: [Digest: [String]] = [:]
        var seen = Set<String>()
        // A tag listed twice is the first entry's (see ``duplicateTags()``).
        for entry in try readIndexDocument().entries {
            if let tag = entry.refName, seen.insert(tag).inserted { tags[entry.digest, default: []].append(tag) }
        }
        return tags.mapValues { $0.sorted() }
    }

    /// Tags `index.json` lists more than once (another tool wrote it so), each with the content
    /// ids of its entries in index order. The first entry wins for every command; the others are
    /// read as untagged snapshots of the history (kept by `gc`), `verify` reports the tag, and
    /// `tag NAME --force` or `untag NAME` settles it.
    public func duplicateTags() throws(StoreError) -> [(tag: String, ids: [Digest])] {
        try readIndexDocument().duplicateTags
    }

    /// Resolves a reference to a snapshot's content id.
    ///
    /// A reference is, in this order: a tag; `REF~N`, the N-th first parent of REF (`REF~` is
    /// `REF~1`); a full content id (`sha256:<64 hex>`) of a snapshot in the history; a unique prefix
    /// of at least 7 hex digits (with or without `sha256:`). A tag wins over a prefix that spells
    /// the same text.
    public func resolve(_ reference: String) throws(StoreError) -> Digest {
        // A content id, a prefix of one, and TAG~N are never read as a tag: a tag another tool
        // wrote under such a name (or one made before tags of hex digits were refused) must not
        // make `forget ID` forget another snapshot. A hex reference that is no prefix of a
        // snapshot may still be such an old tag.
        if reference.isEmpty { throw .malformedReference(reference, reason: "an empty reference names no snapshot; give a tag, TAG~N, a content id or a prefix of one") }
        let hex = reference.hasPrefix("sha256:") ? String(reference.dropFirst("sha256:".count)) : reference
        if reference.hasPrefix("sha256:") || (IndexDocument.isHex(hex) && hex.utf8.count >= IndexDocument.minimumPrefix) {
            do { return try resolveContentID(reference, hex: hex) } catch {
                guard case .notFound = error, !reference.hasPrefix("sha256:"), let tagged = try snapshotID(tagged: reference) else { throw error }
                return tagged
            }
        }
        if !reference.contains("~"), let tagged = try snapshotID(tagged: reference) { return tagged }
        if let tilde = reference.lastIndex(of: "~") {
            let base = String(reference[..<tilde])
            let count = reference[reference.index(after: tilde)...]
            guard !base.isEmpty, count.isEmpty || count.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
                throw .malformedReference(reference, reason: "after '~' comes a number of first parents to go back, as in main~2")
            }
            guard let steps = count.isEmpty ? 1 : Int(count) else {
                throw .malformedReference(reference, reason: "\(count) first parents is more than any history holds (at most \(Int.max)); give a smaller number")
            }
            var id = try resolve(base)
            for step in 0..<steps {
                guard let parent = try parents(of: id).first else {
                    throw .invalidReference(reference, reason: "\(Self.shortID(id)) (\(base)~\(step)) has no parent")
                }
                guard has(parent) else {
                    throw .invalidReference(reference, reason: "\(parent) is not in this store (history is shallow there)")
                }
                id = parent
            }
            return id
        }
        return try resolveContentID(reference, hex: hex)
    }

    /// `reference`, a content id or a prefix of one (`hex`, without `sha256:`), in the history.
    private func resolveContentID(_ reference: String, hex prefix: String) throws(StoreError) -> Digest {
        let history = try history()
        if reference.hasPrefix("sha256:") {
            if prefix.utf8.count == 64 {
                let digest: Digest
                do { digest = try Digest(parsing: reference) } catch {
                    throw .invalidReference(reference, reason: error.description)
                }
                guard history.contains(where: { $0.id == digest }) else { throw .notFound(reference: reference, store: path) }
                return digest
            }
        }
        guard IndexDocument.isHex(prefix), prefix.utf8.count <= 64 else { throw .notFound(reference: reference, store: path) }
        guard prefix.utf8.count >= 7 else {
            throw .invalidReference(reference, reason: "no tag has this name, and a content-id prefix needs at least 7 hex digits")
        }
        let matches = Set(history.map(\.id).filter { $0.hex.hasPrefix(prefix) }).sorted()
        switch matches.count {
        case 0: throw .notFound(reference: reference, store: path)
        case 1: return matches[0]
        default: throw .ambiguous(reference: reference, candidates: matches)
        }
    }

    /// The parents of snapshot `id`, first parent first, from its root document alone (`TAG~N`
    /// walks N of them; none of their layers is read).
    public func parents(of id: Digest) throws(StoreError) -> [Digest] {
        try header(id).parents
    }

    static func shortID(_ id: Digest) -> String { String(id.hex.prefix(12)) }

    /// The snapshot a tag names, or nil when the tag is not in the index.
    public func snapshotID(tagged tag: String) throws(StoreError) -> Digest? {
        try readIndexDocument().entry(tagged: tag)?.digest
    }
}
