import PFModel
import PFSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A pfhost store: an OCI image layout directory holding blobs named by their SHA-256, an
/// `index.json` that lists the tags, and a journal of every snapshot (store format 2,
/// `docs/store-format.md`).
///
/// ```
/// STORE/oci-layout            {"imageLayoutVersion":"1.0.0"}
/// STORE/index.json            the OCI image index: one descriptor per tag
/// STORE/blobs/sha256/<hex>    immutable blobs (mode 0444), content == digest
/// STORE/ingest/               pfhost's private area: the journal, blobs being written, the
///                             index and gc locks, the stat cache
/// ```
///
/// All methods are thread-safe, and several processes may use one store at once: blobs are
/// content-addressed and the journal and index are updated under an exclusive `flock`. A
/// snapshot is committed by one append to the journal, so a crash at any moment leaves the store
/// valid.
///
/// ```swift
/// let store = try SnapshotStore.openOrCreate(at: "/var/lib/agent/.pfstore")
/// let blob = try store.putBlob(Array("hello".utf8))
/// ```
public final class SnapshotStore: Sendable {
    /// The store's directory (absolute).
    public let path: String
    /// How hard writes work to survive a power loss.
    public let durability: Durability

    let system: SystemCalls
    let blobsPath: String
    let ingestPath: String
    let indexPath: String
    /// Batch mode's blobs written to `ingest/` and waiting for the flush phase, by digest.
    let pending = Mutex<[Digest: PendingBlob]>([:])
    /// Held during batch mode's flush phase.
    let flushing = Mutex<Void>(())
    /// Digests of files already ingested, by their stat data.
    let statCache: StatCache
    /// Blobs this process has seen in `blobs/sha256/` with their sizes. Blobs are immutable and
    /// pfhost never deletes one, so a blob seen once stays; this saves a `stat` per blob when a
    /// layer is checked and then committed.
    let present = Mutex<[Digest: Int64]>([:])
    /// This object's claim on its temporary files in `ingest/` (see ``IngestOwner``), made when it
    /// first writes one.
    let ownerClaim = Mutex<IngestOwner?>(nil)
    /// The descriptor holding this object's shared lease on `ingest/gc.lock`, once taken.
    let lease = Mutex<Int32?>(nil)
    /// Upgrades to format 2 this object made as part of a write, until taken.
    let upgrades = Mutex<[Migration]>([])

    struct PendingBlob: Sendable {
        var ingestPath: String
        var size: Int64
    }

    deinit {
        if let fd = lease.withLock({ $0 }) { try? system.close(fd, path: ingestPath + "/gc.lock") }
    }

    static let layoutFile = "oci-layout"
    static let layoutContent = #"{"imageLayoutVersion":"1.0.0"}"#

    init(validatedPath path: String, durability: Durability, system: SystemCalls, racyWindow: Int64 = 2_000_000_000) {
        self.path = path
        self.durability = durability
        self.system = system
        blobsPath = path + "/blobs/sha256"
        ingestPath = path + "/ingest"
        indexPath = path + "/index.json"
        statCache = StatCache(path: path + "/ingest/stat-cache.v1", system: system, racyWindow: racyWindow)
    }

    /// Opens an existing store.
    ///
    /// - Throws: ``StoreError/notAStore(path:reason:)`` when `path` has no `oci-layout` or an
    ///   unsupported one; ``StoreError/io(step:_:)`` when it cannot be read.
    public convenience init(opening path: String, durability: Durability = .batch) throws(StoreError) {
        try self.init(opening: path, durability: durability, system: SystemCalls())
    }

    convenience init(opening path: String, durability: Durability, system: SystemCalls) throws(StoreError) {
        let absolute = Self.absolute(path)
        self.init(validatedPath: absolute, durability: durability, system: system)
        try validateLayout()
    }

    /// Opens the store at `path`, creating an empty one when nothing is there.
    public static func openOrCreate(at path: String, durability: Durability = .batch) throws(StoreError) -> SnapshotStore {
        try openOrCreate(at: path, durability: durability, system: SystemCalls())
    }

    static func openOrCreate(at path: String, durability: Durability, system: SystemCalls,
                             racyWindow: Int64 = 2_000_000_000) throws(StoreError) -> SnapshotStore {
        let store = SnapshotStore(validatedPath: absolute(path), durability: durability, system: system, racyWindow: racyWindow)
        let layout = store.path + "/" + layoutFile
        if try store.step("checking \(layout)", { () throws(SystemCallError) in try system.status(layout) }) == nil {
            try store.initialize()
        }
        try store.validateLayout()
        return store
    }

    /// Lays out an empty store: directories, `index.json`, then `oci-layout` last, so a
    /// directory with an `oci-layout` is always a complete store.
    private func initialize() throws(StoreError) {
        try step("creating the store at \(path)") { () throws(SystemCallError) in
            try system.mkdir(path)
            try system.mkdir(path + "/blobs")
            try system.mkdir(blobsPath)
            try system.mkdir(ingestPath)
        }
        // Several processes may create one store at once: each writes its own temporary files and
        // renames them without replacing, so none loses another's index (or its first snapshot).
        let owner = try owner()
        let indexTemporary = ingestPath + "/" + owner.temporaryName("index")
        let layoutTemporary = ingestPath + "/" + owner.temporaryName("layout")
        try step("creating the store at \(path)") { () throws(SystemCallError) in
            let sync = durability != .none
            if try system.status(indexPath) == nil {
                let empty = IndexDocument.empty.encoded()
                try system.writeFile(indexTemporary, empty, sync: sync)
                if try !system.renameNoReplace(indexTemporary, indexPath) { try system.unlink(indexTemporary) }
            }
            try system.writeFile(layoutTemporary, Array(Self.layoutContent.utf8), sync: sync)
            if try !system.renameNoReplace(layoutTemporary, path + "/" + Self.layoutFile) { try system.unlink(layoutTemporary) }
            if sync { try system.fsyncDirectory(path) }
        }
    }

    private func validateLayout() throws(StoreError) {
        let layout = path + "/" + Self.layoutFile
        let bytes: [UInt8]
        do {
            bytes = try system.readFile(layout, limit: 4096, followSymlinks: false)
        } catch where error.code == ENOENT || error.code == ENOTDIR {
            throw .notAStore(path: path, reason: "\(layout) does not exist")
        } catch where error.isOpenOfNonRegularFile {
            throw .corrupt(file: layout, reason: Self.notRegularDocument("oci-layout"))
        } catch {
            throw .io(step: "reading \(layout)", error)
        }
        guard let value = try? JSONParser.parse(bytes), let version = value["imageLayoutVersion"]?.stringValue else {
            throw .notAStore(path: path, reason: "\(layout) is not an OCI layout file")
        }
        guard version == "1.0.0" else {
            throw .notAStore(path: path, reason: "\(layout) has imageLayoutVersion \(version), expected 1.0.0")
        }
        try step("checking \(ingestPath)") { () throws(SystemCallError) in try system.mkdir(ingestPath) }
        // The store never follows a symlink inside itself: its directories must be directories.
        for directory in [path + "/blobs", blobsPath, ingestPath] {
            let info = try step("checking \(directory)") { () throws(SystemCallError) in try system.linkStatus(directory) }
            if let info, info.st_mode & S_IFMT != S_IFDIR {
                throw .corrupt(file: directory, reason: "it is not a directory (a symlink?); a store's directories must be real directories")
            }
        }
    }

    /// Runs `body`, turning a failed system call into ``StoreError/io(step:_:)`` naming `step`.
    func step<T>(_ step: @autoclosure () -> String, _ body: () throws(SystemCallError) -> T) throws(StoreError) -> T {
        do {
            return try body()
        } catch {
            throw .io(step: step(), error)
        }
    }

    /// The path of the blob named `digest`.
    public func blobPath(_ digest: Digest) -> String {
        blobsPath + "/" + digest.hex
    }

    static func absolute(_ path: String) -> String { SystemCalls.absolute(path) }
}
