import PFModel
import PFSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Remembers the digest of files the store has ingested, keyed by what `stat` says about them,
/// so that `putFile` of an unchanged file costs one `fstat` instead of a read of every byte.
///
/// Stored in `ingest/stat-cache.v1`: canonical JSON, then a newline and the SHA-256 of the JSON.
/// It is only an optimisation and can never produce a wrong digest:
/// - an entry is used only when path, device, inode, size, mtime and ctime (ns) all match and the
///   blob it names is in the store with that size;
/// - a file whose mtime or ctime is within 2 s of the moment it was hashed is not remembered (a
///   write in the same timestamp tick would not change its stat: git's "racy clean" problem);
/// - a file that changed while it was read is not remembered;
/// - a file whose mtime or ctime does not fit 64-bit nanoseconds (before 1678 or after 2262: any
///   file system lets a user set such a time) has no key and is never remembered;
/// - a cache file that is missing, unreadable, or fails its checksum is treated as empty.
final class StatCache: Sendable {
    struct Key: Hashable, Sendable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var mtime: Int64
        var ctime: Int64

        init(device: UInt64, inode: UInt64, size: Int64, mtime: Int64, ctime: Int64) {
            self.device = device
            self.inode = inode
            self.size = size
            self.mtime = mtime
            self.ctime = ctime
        }

        /// The key of what `stat` said; nil when a timestamp does not fit 64-bit nanoseconds.
        /// Times come from the file system, which lets a user set any 64-bit `tv_sec`: the
        /// conversion is checked, never trapping.
        init?(_ info: stat) {
            guard let mtime = Self.nanoseconds(info.st_mtim), let ctime = Self.nanoseconds(info.st_ctim) else { return nil }
            self.init(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size), mtime: mtime, ctime: ctime)
        }

        /// `time` in nanoseconds since 1970, or nil when that does not fit an `Int64`.
        static func nanoseconds(_ time: timespec) -> Int64? {
            let (seconds, overflow) = Int64(time.tv_sec).multipliedReportingOverflow(by: 1_000_000_000)
            guard !overflow else { return nil }
            let (total, carry) = seconds.addingReportingOverflow(Int64(time.tv_nsec))
            return carry ? nil : total
        }
    }

    /// Whether two `stat`s of one file describe the same contents as far as the cache can tell:
    /// device, inode, size, mtime and ctime equal, compared as the kernel gave them (so also for
    /// times that have no ``Key``).
    static func same(_ a: stat, _ b: stat) -> Bool {
        a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size
            && a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec
            && a.st_ctim.tv_sec == b.st_ctim.tv_sec && a.st_ctim.tv_nsec == b.st_ctim.tv_nsec
    }

    struct Entry: Sendable {
        var key: Key
        var digest: Digest
        /// Seconds since 1970 when the entry was last used, for eviction.
        var used: Int64
    }

    static let maximumEntries = 100_000
    /// Seconds: a hit moves an entry's `used` (and makes the cache worth saving) only when it is at
    /// least this old.
    static let usedPrecision: Int64 = 86_400

    private let path: String
    private let system: SystemCalls
    /// Nanoseconds: files changed more recently than this before being hashed are not remembered.
    let racyWindow: Int64
    private struct State {
        var entries: [String: Entry]?
        var dirty = false
    }
    private let state = Mutex(State())

    init(path: String, system: SystemCalls, racyWindow: Int64 = 2_000_000_000) {
        self.path = path
        self.system = system
        self.racyWindow = racyWindow
    }

    /// The remembered digest of the file at `file` whose stat is `info`, if it still applies.
    func digest(for file: String, info: stat) -> Digest? {
        guard let key = Key(info) else { return nil }
        return state.withLock { state in
            if state.entries == nil { state.entries = load() }
            guard var entry = state.entries?[file], entry.key == key else { return nil }
            // `used` only ranks entries for eviction, so a day's precision is enough: an unchanged
            // snapshot (every file a hit) need not rewrite the cache.
            let now = Self.now() / 1_000_000_000
            if now - entry.used >= Self.usedPrecision {
                entry.used = now
                state.entries?[file] = entry
                state.dirty = true
            }
            return entry.digest
        }
    }

    /// Remembers that `file`, seen as `before` when its read began and `after` when it ended,
    /// has `digest`, unless it changed during the read or too recently to be trusted.
    func remember(_ file: String, before: stat, after: stat, digest: Digest) {
        guard let key = Key(before), Self.same(before, after) else { return }
        let now = Self.now()
        // Times from the far past or future make the difference overflow: then it is beyond any
        // window, and its sign is the comparison's.
        let changed = max(key.mtime, key.ctime)
        let (age, overflow) = now.subtractingReportingOverflow(changed)
        guard overflow ? now > changed : age >= racyWindow else { return }
        state.withLock { state in
            if state.entries == nil { state.entries = load() }
            state.entries?[file] = Entry(key: key, digest: digest, used: now / 1_000_000_000)
            state.dirty = true
        }
    }

    /// Forgets `file` (its blob turned out to be missing or damaged).
    func forget(_ file: String) {
        state.withLock { state in
            if state.entries?.removeValue(forKey: file) != nil { state.dirty = true }
        }
    }

    /// Writes the cache back if it changed, merged with what other processes wrote meanwhile,
    /// through the temporary file `temporary` (renamed over the cache). Failures are ignored: the
    /// cache is an optimisation.
    func save(through temporary: @autoclosure () -> String?) {
        state.withLock { state in
            guard state.dirty, let ours = state.entries else { return }
            var merged = load()
            merged.merge(ours) { theirs, mine in mine.used >= theirs.used ? mine : theirs }
            if merged.count > Self.maximumEntries {
                let keep = merged.sorted { $0.value.used > $1.value.used }.prefix(Self.maximumEntries)
                merged = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
            }
            var object: [String: JSONValue] = [:]
            for (file, entry) in merged {
                object[file] = .array([
                    .int(Int64(bitPattern: entry.key.device)), .int(Int64(bitPattern: entry.key.inode)), .int(entry.key.size),
                    .int(entry.key.mtime), .int(entry.key.ctime), .string(entry.digest.hex), .int(entry.used),
                ])
            }
            var bytes = CanonicalJSON.encode(.object(["version": .int(1), "files": .object(object)]))
            let checksum = Digest.of(bytes).hex
            bytes.append(0x0a)
            bytes.append(contentsOf: checksum.utf8)
            guard let temporary = temporary() else { return }
            do {
                try system.writeFile(temporary, bytes, sync: false)
                try system.rename(temporary, path)
                state.dirty = false
            } catch {
                try? system.unlink(temporary)
            }
        }
    }

    private func load() -> [String: Entry] {
        guard let bytes = try? system.readFile(path, limit: 256 << 20, followSymlinks: false),
              let newline = bytes.lastIndex(of: 0x0a),
              Digest.of(bytes[..<newline]).hex == String(decoding: bytes[(newline + 1)...], as: UTF8.self),
              let json = try? JSONParser.parse(bytes[..<newline]),
              json["version"] == .int(1), let files = json["files"]?.objectValue
        else { return [:] }
        var entries: [String: Entry] = [:]
        for (file, value) in files {
            guard case .array(let fields) = value, fields.count == 7,
                  case .int(let device) = fields[0], case .int(let inode) = fields[1], case .int(let size) = fields[2],
                  case .int(let mtime) = fields[3], case .int(let ctime) = fields[4],
                  case .string(let hex) = fields[5], let digest = try? Digest(hex: hex), case .int(let used) = fields[6]
            else { continue }
            let key = Key(device: UInt64(bitPattern: device), inode: UInt64(bitPattern: inode), size: size, mtime: mtime, ctime: ctime)
            entries[file] = Entry(key: key, digest: digest, used: used)
        }
        return entries
    }

    /// The time now in nanoseconds since 1970 (saturated: a clock set past 2262 is not a crash).
    static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Key.nanoseconds(time) ?? (time.tv_sec < 0 ? Int64.min : Int64.max)
    }
}
