import Dispatch
import PFModel
import PFSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif
import PFSystem

/// Checks a store end to end: the layout, `index.json` and the journal, every snapshot's documents, and the bytes of every blob they reference (re-hashed, sizes compared).
///
/// ```swift
/// let problems = StoreVerifier(store: store).verify(snapshots: nil, everyBlob: true)
/// ```
public struct StoreVerifier {
    private let store: SnapshotStore
    private var hashed: [Digest: Result<BlobRef, StoreError>] = [:]
    private var problems: [VerificationProblem] = []
    /// Layers whose declared counts were checked against their blobs (see ``DeclaredCounts``).
    private var countsChecked = Set<String>()
    /// Checks one layer's JSON (canonical bytes) against what its kind must be, returning why it is
    /// not (the host passes its published schemas); nil to check nothing more.
    private let layerCheck: (([UInt8], LayerKind) -> String?)?
    /// Layer JSON already checked (distinct layers only: most snapshots share most of theirs).
    private var layersChecked = Set<[UInt8]>()
    /// Layer manifests whose listed blobs were checked against their layers.
    private var manifestsChecked = Set<Digest>()

    /// A verifier for `store`; `layerCheck` judges each distinct layer's JSON (the CLI passes the
    /// published schemas' check, so a layer config a plugin could never have handed over is reported).
    public init(store: SnapshotStore, layerCheck: (([UInt8], LayerKind) -> String?)? = nil) {
        self.store = store
        self.layerCheck = layerCheck
    }

    /// Verifies the snapshots `ids` (every snapshot in the index when nil) and, when
    /// `everyBlob` is set, every file in `blobs/sha256/` as well, referenced or not: a damaged
    /// unreferenced blob would otherwise be reused by the next snapshot that needs those bytes.
    ///
    /// - Returns: the problems found, one per damaged thing; empty when the store is clean.
    public mutating func verify(snapshots ids: [Digest]?, everyBlob: Bool) -> [VerificationProblem] {
        problems = []
        let history: [HistoryEntry]
        do {
            let read = try store.historyWithDamage()
            history = read.entries
            for damage in read.damaged { report(nil, damage.file, "line \(damage.line) is damaged: \(damage.reason)") }
        } catch {
            let file: String
            if case .corrupt(let path, _) = error { file = path } else { file = store.path + "/index.json" }
            return [VerificationProblem(snapshot: nil, file: file, message: "\(error)")]
        }
        for (tag, ids) in (try? store.duplicateTags()) ?? [] {
            report(nil, store.path + "/index.json", "tag '\(tag)' is listed \(ids.count) times (\(ids.map { String($0.hex.prefix(12)) }.joined(separator: ", "))): the first entry wins and the others are read as untagged snapshots; run 'pfhost tag REF \(tag) --force' or 'pfhost untag \(tag)' to settle it")
        }
        for entry in history where entry.root.mediaType != MediaType.ociManifest && entry.root.mediaType != MediaType.ociIndex {
            report(entry.id, store.path + "/index.json", "entry \(entry.id) has mediaType \(entry.root.mediaType), expected \(MediaType.ociIndex) or \(MediaType.ociManifest)")
        }
        if everyBlob { hashSideBySide() }
        var seen = Set<Digest>()
        let byID = Dictionary(history.map { ($0.id, $0) }) { first, _ in first }
        let targets = ids ?? history.map(\.id)
        for id in targets where seen.insert(id).inserted {
            let entry = byID[id]
            verifySnapshot(id, indexedSize: entry?.root.size)
            if let entry, !entry.created.isEmpty, let created = try? store.header(id).createdAt, created != entry.created {
                report(id, store.path + "/ingest/journal.v2", "the history records it as created '\(entry.created)', the snapshot says '\(created)'")
            }
        }
        if everyBlob {
            verifyEveryBlob()
            verifyIngest()
        }
        verifyLockFiles()
        return problems
    }

    private mutating func report(_ snapshot: Digest?, _ file: String, _ message: String) {
        problems.append(VerificationProblem(snapshot: snapshot, file: file, message: message))
    }

    /// Re-hashes a blob once and reports a mismatch against `expectedSize`.
    private mutating func checkBlob(_ digest: Digest, size expectedSize: Int64?, of snapshot: Digest?, role: String) -> Bool {
        let path = store.blobPath(digest)
        let result = hashed[digest] ?? Result { () throws(StoreError) in try store.hashBlob(digest) }
        hashed[digest] = result
        switch result {
        case .failure(.missingBlob):
            report(snapshot, path, "\(role) is missing")
            return false
        case .failure(.corrupt(_, let reason)):
            report(snapshot, path, "\(role) is damaged: \(reason)")
            return false
        case .failure(let error):
            report(snapshot, path, "\(role) cannot be read: \(error)")
            return false
        case .success(let actual):
            if actual.digest != digest {
                report(snapshot, path, "\(role) is damaged: its content hashes to \(actual.digest)")
                return false
            }
            if let expectedSize, actual.size != expectedSize {
                report(snapshot, path, "\(role) has \(actual.size) bytes, its descriptor says \(expectedSize)")
                return false
            }
            return true
        }
    }

    private mutating func verifySnapshot(_ id: Digest, indexedSize: Int64?) {
        if indexedSize == nil { report(id, store.path + "/index.json", "the snapshot is not in the history") }
        guard checkBlob(id, size: indexedSize, of: id, role: "the snapshot's root") else { return }
        let snapshot: Snapshot
        do { snapshot = try store.snapshot(id) } catch {
            let file: String
            if case .corrupt(let path, _) = error { file = path } else { file = store.blobPath(id) }
            report(id, file, "\(error)")
            return
        }
        var listed: [Digest: Int64] = [:]
        for blob in snapshot.closure.dropFirst() {
            listed[blob.digest] = blob.size
            let role = [MediaType.ociManifest, MediaType.snapshotConfig, MediaType.layerConfig].contains(blob.mediaType)
                ? "document (\(blob.mediaType))" : "layer blob (\(blob.mediaType))"
            _ = checkBlob(blob.digest, size: blob.size, of: id, role: role)
        }
        let layerManifests = snapshot.format == 2 ? snapshot.closure.dropFirst().filter { $0.mediaType == MediaType.ociManifest }.map(\.digest) : []
        func reportLayer(_ kind: LayerKind, _ message: String) {
            let position = LayerKind.allCases.firstIndex(of: kind) ?? 0
            report(id, position < layerManifests.count ? store.blobPath(layerManifests[position]) : store.blobPath(id), "the \(kind) layer: \(message)")
        }
        do {
            for (kind, message) in try DeclaredCounts.problems(in: snapshot.manifest, store: store, checked: &countsChecked) {
                reportLayer(kind, message)
            }
        } catch {
            // A blob that cannot be read was reported with the layer's blobs above.
        }
        if let layerCheck {
            for kind in LayerKind.allCases {
                guard let json = snapshot.layerJSON[kind], layersChecked.insert(json).inserted, let problem = layerCheck(json, kind) else { continue }
                reportLayer(kind, problem)
            }
        }
        // Each layer manifest lists its layer's blobs and nothing more (the OCI empty blob for a
        // layer with none): a blob only the manifest lists is weight a copy carries for nothing.
        for (summary, manifestDigest) in zip(snapshot.manifest.layerSummaries, layerManifests)
        where manifestsChecked.insert(manifestDigest).inserted {
            guard let layerManifest = try? CanonicalJSON.decode(OCIManifest.self, from: store.readBlob(manifestDigest)) else { continue }
            let own = Set(summary.blobs.map(\.digest))
            for extra in layerManifest.layers where !own.contains(extra.digest) && !(own.isEmpty && extra.mediaType == MediaType.ociEmpty) {
                reportLayer(summary.kind, "its layer manifest lists blob \(extra.digest), which the layer does not")
            }
        }
        for summary in snapshot.manifest.layerSummaries {
            for blob in summary.blobs {
                guard let size = listed[blob.digest] else {
                    report(id, store.blobPath(id), "the \(summary.kind) layer's blob \(blob.digest) is not among the OCI manifest's layers")
                    continue
                }
                if size != blob.size {
                    report(id, store.blobPath(id), "the \(summary.kind) layer says blob \(blob.digest) has \(blob.size) bytes, the OCI manifest says \(size)")
                }
            }
        }
    }

    private static func kindName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFLNK: "a symlink"
        case S_IFDIR: "a directory"
        case S_IFIFO: "a FIFO"
        case S_IFCHR, S_IFBLK: "a device"
        case S_IFSOCK: "a socket"
        default: "not a file"
        }
    }

    /// Temporary files whose writer is gone: not damage to any snapshot, but space nothing else
    /// will give back until a snapshot (or ``SnapshotStore/reclaimAbandonedFiles(dryRun:)``) runs.
    private mutating func verifyIngest() {
        do {
            let abandoned = try store.reclaimAbandonedFiles(dryRun: true)
            if abandoned.files > 0 {
                report(nil, store.path + "/ingest", "\(abandoned.files) temporary file\(abandoned.files == 1 ? "" : "s") (\(abandoned.bytes) bytes) left by writers that are gone (the store is valid; the next pull or snapshot removes them)")
            }
        } catch {
            report(nil, store.path + "/ingest", "cannot be listed: \(error)")
        }
    }

    /// The lock files every write takes: anything but a regular file there fails every snapshot.
    private mutating func verifyLockFiles() {
        for name in ["index.lock", "gc.lock"] {
            let path = store.path + "/ingest/" + name
            guard let info = try? store.system.linkStatus(path), info.st_mode & S_IFMT != S_IFREG else { continue }
            report(nil, path, "is not a regular file (\(Self.kindName(info.st_mode))): no snapshot, tag or gc can lock the store; remove it, and the next command creates it again")
        }
    }

    /// Hashes every blob file side by side first (``SnapshotStore/verify(kernel:next:done:)``: up to
    /// 16 at once in one core's SIMD lanes), so that the checks below find the intact ones hashed.
    /// Blobs over 16 MiB are one stream each, which the lanes would only slow down: they are hashed
    /// one after another on a second thread meanwhile. A blob that fails here is left to
    /// ``checkBlob(_:size:of:role:)``, which hashes it again and says what is wrong in its own words.
    private mutating func hashSideBySide() {
        guard let names = try? store.system.listDirectory(store.path + "/blobs/sha256") else { return }
        let store = store
        let digests = names.sorted().compactMap { try? Digest(hex: $0) }
        let isLarge = { (digest: Digest) in ((try? store.system.linkStatus(store.blobPath(digest)))??.st_size ?? 0) > 16 << 20 }
        let large = digests.filter(isLarge)
        let small = digests.filter { !large.contains($0) }
        let intact = Mutex<[Digest: BlobRef]>([:])
        DispatchQueue.concurrentPerform(iterations: 2) { part in
            if part == 1 {
                for digest in large {
                    guard let file = try? store.openBlobFile(digest, size: nil) else { continue }
                    if (try? store.verify(file)) != nil { intact.withLock { $0[digest] = file.blob } }
                    try? store.system.close(file.fd, path: file.path)
                }
                return
            }
            var pending = small[...]
            store.verify(next: { () -> BlobFile? in
                while let digest = pending.popFirst() {
                    if let file = try? store.openBlobFile(digest, size: nil) { return file }
                }
                return nil
            }, done: { file, outcome in
                try? store.system.close(file.fd, path: file.path)
                if case .success = outcome { intact.withLock { $0[file.blob.digest] = file.blob } }
            })
        }
        for (digest, blob) in intact.withLock({ $0 }) { hashed[digest] = .success(blob) }
    }

    private mutating func verifyEveryBlob() {
        let directory = store.path + "/blobs/sha256"
        let names: [String]
        do { names = try store.system.listDirectory(directory) } catch {
            report(nil, directory, "cannot be listed: \(error)")
            return
        }
        for name in names.sorted() {
            guard let digest = try? Digest(hex: name) else {
                report(nil, directory + "/" + name, "is not named by a sha256 digest")
                continue
            }
            // Anything but a regular file (a symlink above all) is reported even when a snapshot
            // did not name it: the store would otherwise reuse it.
            if hashed[digest] == nil, let info = try? store.system.linkStatus(directory + "/" + name), info.st_mode & S_IFMT != S_IFREG {
                report(nil, directory + "/" + name, "is not a regular file (\(Self.kindName(info.st_mode))); a store holds only regular files: remove it")
                hashed[digest] = .failure(.corrupt(file: directory + "/" + name, reason: "not a regular file"))
                continue
            }
            // Blobs a snapshot references were checked (and reported) with it.
            if hashed[digest] == nil { _ = checkBlob(digest, size: nil, of: nil, role: "blob") }
        }
    }
}
