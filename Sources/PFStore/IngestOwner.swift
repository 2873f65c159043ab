import PFSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One store object's claim on the temporary files it writes in `ingest/`, so that files left by a
/// process that died (kill -9, a crash, a full disk) can be told apart from files a live writer is
/// still filling, and removed.
///
/// The claim is a lock file, `ingest/owner-TOKEN.lock`, on which the owner holds an exclusive
/// `flock` for as long as it lives; every temporary file it creates is named `…-TOKEN-N.tmp`. The
/// kernel drops the lock when the process ends, however it ends. The lock file is created under a
/// private name, locked, and only then renamed into place, so no other process can ever see it
/// unlocked while its owner lives. ``SnapshotStore/reclaimAbandonedFiles()`` removes the files of
/// every token whose lock it can take (owner gone) or that has no lock file at all (left by a
/// version of pfhost before owner locks, or by an owner whose lock was already reclaimed).
final class IngestOwner: Sendable {
    /// 16 hex digits, random: the part of every temporary file's name that says whose it is.
    let token: String
    private let lockPath: String
    private let fd: Int32
    private let counter = Atomic<UInt64>(0)
    private let system: SystemCalls

    init(ingestPath: String, system: SystemCalls) throws(SystemCallError) {
        var random = SystemRandomNumberGenerator()
        let token = String(random.next() as UInt64 | 1 << 63, radix: 16)
        let lockPath = ingestPath + "/owner-\(token).lock"
        let privatePath = ingestPath + "/owner-\(token).lock.new"
        let fd = try system.open(privatePath, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o644)
        do {
            try system.lockExclusive(fd, path: privatePath)
            try system.rename(privatePath, lockPath)
        } catch {
            try? system.close(fd, path: privatePath)
            try? system.unlink(privatePath)
            throw error
        }
        self.token = token
        self.lockPath = lockPath
        self.fd = fd
        self.system = system
    }

    deinit {
        // Our temporary files are gone by now (writers unlink theirs; the store discards what
        // waits for a flush); without them the lock file is only a name to tidy.
        try? system.unlink(lockPath)
        try? system.close(fd, path: lockPath)
    }

    /// A new temporary file name of this owner: `PREFIX-TOKEN-N.tmp`.
    func temporaryName(_ prefix: String) -> String {
        "\(prefix)-\(token)-\(counter.add(1, ordering: .relaxed).newValue).tmp"
    }

    /// The token in a temporary file's name (`PREFIX-TOKEN-N.tmp` or the older `PREFIX-PID-HEX.tmp`),
    /// or nil for a name that is not a temporary file.
    static func token(ofTemporary name: String) -> Substring? {
        guard name.hasSuffix(".tmp") else { return nil }
        let parts = name.dropLast(4).split(separator: "-")
        guard parts.count >= 3 else { return nil }
        return parts[parts.count - 2]
    }
}

extension SnapshotStore {
    /// What ``reclaimAbandonedFiles()`` found and removed.
    public struct Reclaimed: Sendable, Equatable {
        /// Temporary files removed.
        public var files = 0
        /// Their bytes.
        public var bytes: Int64 = 0
    }

    /// Removes the temporary files in `ingest/` whose writer is gone: those of every owner whose
    /// lock can be taken (the process holding it ended), and those whose owner has no lock file.
    /// Files of live writers, this one's included, are never touched. With `dryRun`, only counts.
    ///
    /// Its cost is one listing of `ingest/`, which holds only temporary files: it does not grow
    /// with the number of snapshots or blobs.
    @discardableResult
    public func reclaimAbandonedFiles(dryRun: Bool = false) throws(StoreError) -> Reclaimed {
        let names = try step("listing \(ingestPath)") { () throws(SystemCallError) in try system.listDirectory(ingestPath) }
        let mine = currentOwner?.token
        var reclaimed = Reclaimed()
        var byToken: [Substring: [String]] = [:]
        for name in names {
            if let token = IngestOwner.token(ofTemporary: name), String(token) != mine { byToken[token, default: []].append(name) }
        }
        // A claim that died half-made (between creating its lock file and renaming it into place).
        // Its owner locks it only after creating it, so a young one may be a live claim about to be
        // locked: only one older than a minute (a live claim is renamed within microseconds) goes.
        for name in names where name.hasPrefix("owner-") && name.hasSuffix(".lock.new") {
            let token = name.dropFirst("owner-".count).dropLast(".lock.new".count)
            guard String(token) != mine, let info = try? system.linkStatus(ingestPath + "/" + name) else { continue }
            let kind = info.st_mode & S_IFMT
            // A claim is a regular file: anything else there (a FIFO, a symlink) is no claim at all.
            if kind != S_IFREG {
                guard kind != S_IFDIR else { continue }
                if !dryRun { try? system.unlink(ingestPath + "/" + name) }
                reclaimed.files += 1
                continue
            }
            guard time(nil) - info.st_mtim.tv_sec > 60,
                  let fd = try? system.open(ingestPath + "/" + name, O_RDWR | O_NOFOLLOW | O_NONBLOCK) else { continue }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                if !dryRun { try? system.unlink(ingestPath + "/" + name) }
                reclaimed.files += 1
            }
            Glibc.close(fd)
        }
        // Lock files whose owner is gone and that no temporary file names any more.
        for name in names where name.hasPrefix("owner-") && name.hasSuffix(".lock") {
            let token = name.dropFirst("owner-".count).dropLast(".lock".count)
            if String(token) != mine, byToken[token] == nil { byToken[token] = [] }
        }
        for (token, files) in byToken {
            // Asked of the lock file itself, not of the listing: a listing taken while a writer
            // starts may show its first temporary file and not yet its lock.
            let lockPath = ingestPath + "/owner-\(token).lock"
            var lock: Int32 = -1
            // A claim's lock is a regular file: a symlink, FIFO or directory in its place is no live
            // writer's (it is removed, unless a directory, and never opened or followed).
            if let info = try? system.linkStatus(lockPath), info.st_mode & S_IFMT != S_IFREG {
                // Not counted, as a gone writer's lock file is not: its temporary files are.
                if info.st_mode & S_IFMT != S_IFDIR, !dryRun { try? system.unlink(lockPath) }
            } else {
                do {
                    lock = try system.open(lockPath, O_RDWR | O_NOFOLLOW)
                } catch where error.code == ENOENT {
                    // No claim at all: an older pfhost's file, or an owner already reclaimed.
                } catch {
                    continue
                }
            }
            if lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) != 0 {
                Glibc.close(lock) // a live writer
                continue
            }
            for name in files {
                let path = ingestPath + "/" + name
                // Also what pfhost never makes there (a FIFO, a symlink: unlinked, never opened or
                // followed); a directory stays.
                guard let info = try? system.linkStatus(path), info.st_mode & S_IFMT != S_IFDIR else { continue }
                if !dryRun { guard (try? system.unlink(path)) != nil else { continue } }
                reclaimed.files += 1
                if info.st_mode & S_IFMT == S_IFREG { reclaimed.bytes += Int64(info.st_size) }
            }
            if lock >= 0 {
                // Still holding its lock: nobody can be using the token while its files go.
                if !dryRun { try? system.unlink(lockPath) }
                Glibc.close(lock)
            }
        }
        return reclaimed
    }

    /// This store object's owner claim in `ingest/`, made at the first temporary file.
    func owner() throws(StoreError) -> IngestOwner {
        try ownerClaim.withLock { (claim) throws(StoreError) -> IngestOwner in
            if let claim { return claim }
            let made = try step("claiming temporary files in \(ingestPath)") { () throws(SystemCallError) in
                try IngestOwner(ingestPath: ingestPath, system: system)
            }
            claim = made
            return made
        }
    }

    /// The claim, if one was made.
    var currentOwner: IngestOwner? { ownerClaim.withLock { $0 } }

    /// Removes every blob this store object wrote that still waits for batch mode's flush phase:
    /// what a failed or cancelled snapshot calls so that it leaves nothing behind.
    public func discardPending() {
        let waiting = pending.withLock { waiting in
            defer { waiting.removeAll() }
            return waiting
        }
        for blob in waiting.values { try? system.unlink(blob.ingestPath) }
    }
}
