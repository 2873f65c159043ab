import PFModel
import PFStore
#if canImport(Glibc)
import Glibc
#endif

/// Hands restores their blobs, each checked against its digest first, and hashes each blob once
/// per restore, on threads of their own ahead of the plugins.
///
/// A restore writes what a copy writes; what it adds is hashing every byte it reads. Done where the
/// plugin opens a blob, the hash and the write would follow each other; here background threads
/// hash the layers' blobs while the plugins write others, at most ``lookahead`` bytes ahead of what
/// they opened, so a restore larger than memory does not hash what the page cache will have dropped
/// by the time it is written. Both take the largest blobs first, the critical path. One thread
/// hashes the blobs larger than ``checkedBeforeOpen`` one after another (libcrypto: one stream
/// cannot be split across lanes). The other hashes the blobs up to that size side by side, up to 16
/// at once in the SIMD lanes of one core (``SnapshotStore/verify(kernel:next:done:)``,
/// ``MultiBufferSHA256``: about five times libcrypto's bytes per second on a CPU without SHA
/// extensions), a lane whose blob is done taking the next, so that plugins rarely find a small blob
/// unhashed. A plugin that opens a blob no thread has reached hashes it itself (so with several
/// plugins every core hashes); one that opens a blob being hashed waits for that hash.
///
/// Blobs larger than ``checkedBeforeOpen`` (weights, packs of pages: bytes a plugin copies, not
/// parses) are not waited for: the plugin gets the descriptor at once and copies while a thread
/// hashes the same file beside it, so the copy and the hash of one large blob overlap instead of
/// following each other. ``settle()`` waits for those hashes once the plugins are done, and a blob
/// whose bytes are wrong fails the restore then, before TARGET is renamed into place: TARGET never
/// holds a wrong byte, only the restore's temporary sibling may, and it is removed.
///
/// A verified blob is recognised when it is opened again by its file's identity (device, inode,
/// size, mtime, ctime): a blob file changed in place since it was hashed is hashed again.
final class BlobVerifier: Sendable {
    let store: SnapshotStore
    /// How far the background hashing may run ahead of the plugins, in bytes.
    static let lookahead: Int64 = 256 << 20
    /// Blobs of at most this size are hashed before a plugin gets them; larger ones while it reads.
    static let checkedBeforeOpen: Int64 = 16 << 20

    private struct State {
        var verified: [Digest: BlobFile.Identity] = [:]
        var failed: [Digest: StoreError] = [:]
        var hashing: Set<Digest> = []
        /// Blobs hashed ahead and not opened yet, with their sizes.
        var ahead: [Digest: Int64] = [:]
        var aheadBytes: Int64 = 0
        /// Bytes of the blobs the side-by-side thread is hashing: they count against the lookahead.
        var inFlight: Int64 = 0
        var stopped = false
        /// Large blobs handed out before their hash was done, with the identity of the file handed out.
        var unsettled: [Digest: BlobFile.Identity] = [:]
        /// Every blob handed to a plugin, with the identity its file had before it was hashed.
        var handedOut: [Digest: BlobFile.Identity] = [:]
    }
    private let state = ConditionLock(State())
    /// The order the background thread hashes in.
    private let plan: [BlobRef]

    /// A verifier for restores of layers listing `layers` blobs (per layer, in the layer's order).
    init(store: SnapshotStore, layers: [[BlobRef]]) {
        self.store = store
        // Largest first; among equals, one blob of each layer in turn, in the order layers list them.
        var plan: [(blob: BlobRef, order: Int)] = []
        var seen = Set<Digest>()
        let longest = layers.map(\.count).max() ?? 0
        for position in 0..<longest {
            for layer in layers where position < layer.count && seen.insert(layer[position].digest).inserted {
                plan.append((layer[position], plan.count))
            }
        }
        self.plan = plan.sorted { $0.blob.size != $1.blob.size ? $0.blob.size > $1.blob.size : $0.order < $1.order }.map(\.blob)
    }

    /// Starts hashing ahead on two threads: the large blobs one by one, the others side by side.
    /// Without a thread every blob is hashed where it is opened, which is only slower.
    func start() {
        let large = plan.filter { $0.size > Self.checkedBeforeOpen }
        let small = plan.filter { $0.size <= Self.checkedBeforeOpen }
        if !large.isEmpty { _ = DetachedThread.start { self.hashAhead(large) } }
        if !small.isEmpty { _ = DetachedThread.start { self.hashAheadSideBySide(small) } }
    }

    /// Stops the background thread (after the blob it is hashing).
    func stop() {
        state.withLock { state, _ in state.pointee.stopped = true }
        state.broadcast()
    }

    /// Opens `blob` for a plugin: once its bytes are known to be its digest's, or, for a blob larger
    /// than ``checkedBeforeOpen``, at once while they are hashed beside the plugin (``settle()``).
    ///
    /// - Throws: ``StoreError`` for a blob that is missing, not a regular file, of another size, or
    ///   whose bytes do not hash to its digest.
    func open(_ blob: BlobRef) throws(StoreError) -> BlobFile {
        let file = try openUnrecorded(blob)
        state.withLock { state, _ in state.pointee.handedOut[blob.digest] = file.identity }
        return file
    }

    private func openUnrecorded(_ blob: BlobRef) throws(StoreError) -> BlobFile {
        enum Next { case hashHere, hashBeside, unsettled, reopen(BlobFile.Identity), fail(StoreError) }
        let large = blob.size > Self.checkedBeforeOpen
        let next: Next = state.withLock { state, wait in
            while true {
                if let error = state.pointee.failed[blob.digest] { return .fail(error) }
                if let identity = state.pointee.verified[blob.digest] {
                    if let size = state.pointee.ahead.removeValue(forKey: blob.digest) { state.pointee.aheadBytes -= size }
                    return .reopen(identity)
                }
                if !state.pointee.hashing.contains(blob.digest) {
                    state.pointee.hashing.insert(blob.digest)
                    return large ? .hashBeside : .hashHere
                }
                if large { return .unsettled }
                wait()
            }
        }
        // The background thread may be waiting for the lookahead to shrink.
        state.broadcast()
        switch next {
        case .fail(let error):
            throw error
        case .reopen(let identity):
            let file = try store.openBlobFile(blob)
            if file.identity == identity { return file }
            // Changed since it was hashed: hash what is there now.
            close(file.fd)
            return try openVerified(blob)
        case .hashHere:
            let result = Result { () throws(StoreError) -> BlobFile in try openVerified(blob) }
            finish(blob, result.map { $0.identity }, ahead: false)
            return try result.get()
        case .unsettled:
            // Being hashed (ahead): settle() checks the file handed out is the one hashed.
            let file = try store.openBlobFile(blob)
            state.withLock { state, _ in state.pointee.unsettled[blob.digest] = file.identity }
            return file
        case .hashBeside:
            let file: BlobFile
            do throws(StoreError) { file = try store.openBlobFile(blob) } catch {
                finish(blob, .failure(error), ahead: false)
                throw error
            }
            // A descriptor of the hash's own on the same open file: the plugin may close its own.
            let hashed: BlobFile
            do throws(StoreError) { hashed = try file.duplicate() } catch {
                close(file.fd)
                finish(blob, .failure(error), ahead: false)
                throw error
            }
            state.withLock { state, _ in state.pointee.unsettled[blob.digest] = file.identity }
            let hash: @Sendable () -> Void = {
                defer { close(hashed.fd) }
                self.finish(blob, Result { () throws(StoreError) in try self.store.verify(hashed) }.map { hashed.identity }, ahead: false)
            }
            if DetachedThread.start(hash) != 0 { hash() }
            return file
        }
    }

    /// Waits for the hashes of the large blobs handed out before they were checked, and throws the
    /// first that failed (or whose file handed out was not the one hashed, when hashing it again
    /// fails too), then checks that no blob handed out was written since it was hashed. Call it
    /// once the plugins are done, before the restore is committed.
    func settle() throws(StoreError) {
        let outcomes: [(Digest, BlobFile.Identity, Result<BlobFile.Identity, StoreError>)] = state.withLock { state, wait in
            while state.pointee.unsettled.keys.contains(where: { state.pointee.hashing.contains($0) }) { wait() }
            return state.pointee.unsettled.map { digest, identity in
                (digest, identity, state.pointee.failed[digest].map { .failure($0) } ?? .success(state.pointee.verified[digest]!))
            }
        }
        for (digest, handedOut, outcome) in outcomes.sorted(by: { $0.0.description < $1.0.description }) {
            let hashed = try outcome.get()
            if hashed != handedOut {
                // Changed between the two opens: hash what is there now, as a reopen would.
                let file = try openVerified(BlobRef(digest: digest, size: handedOut.size))
                defer { close(file.fd) }
                guard file.identity == handedOut else {
                    throw .corrupt(file: file.path, reason: "it changed while it was being restored")
                }
            }
        }
        // A blob written in place after (or while) it was hashed gave the plugin bytes nobody
        // checked; any write moves its ctime, which cannot be set back, so its identity tells.
        let handedOut = state.withLock { state, _ in state.pointee.handedOut }
        for (digest, identity) in handedOut.sorted(by: { $0.key.description < $1.key.description }) {
            guard try store.blobIdentity(digest) == identity else {
                throw .corrupt(file: store.blobPath(digest), reason: "it was written while the restore read it (blobs are never changed in place; restore again once verify is clean)")
            }
        }
    }

    /// Opens `blob` and hashes it; the descriptor is closed when the bytes are wrong.
    private func openVerified(_ blob: BlobRef) throws(StoreError) -> BlobFile {
        let file = try store.openBlobFile(blob)
        do throws(StoreError) { try store.verify(file) } catch {
            close(file.fd)
            throw error
        }
        return file
    }

    /// Records the outcome of hashing `blob` and wakes whoever waits for it.
    private func finish(_ blob: BlobRef, _ result: Result<BlobFile.Identity, StoreError>, ahead: Bool) {
        state.withLock { state, _ in
            state.pointee.hashing.remove(blob.digest)
            switch result {
            case .success(let identity):
                state.pointee.verified[blob.digest] = identity
                if ahead {
                    state.pointee.ahead[blob.digest] = blob.size
                    state.pointee.aheadBytes += blob.size
                }
            case .failure(let error):
                state.pointee.failed[blob.digest] = error
            }
        }
        state.broadcast()
    }

    /// What a background thread does with the next blob of its plan.
    private enum Claim { case stop, skip, wait, hash }

    /// Claims `blob` for a background thread unless it is hashed, being hashed or failed, or the
    /// lookahead has no room for it (`.wait`; a blob larger than the lookahead goes when nothing
    /// is ahead). Called with the lock held.
    private func claim(_ blob: BlobRef, _ state: UnsafeMutablePointer<State>) -> Claim {
        guard !state.pointee.stopped else { return .stop }
        if state.pointee.verified[blob.digest] != nil || state.pointee.failed[blob.digest] != nil
            || state.pointee.hashing.contains(blob.digest) {
            return .skip
        }
        let ahead = state.pointee.aheadBytes + state.pointee.inFlight
        if ahead > 0 && ahead + blob.size > Self.lookahead { return .wait }
        state.pointee.hashing.insert(blob.digest)
        return .hash
    }

    /// The thread of the large blobs: hashes those not yet claimed, one after another.
    private func hashAhead(_ blobs: [BlobRef]) {
        for blob in blobs {
            let claim = state.withLock { state, wait -> Claim in
                while true {
                    let claim = self.claim(blob, state)
                    if claim != .wait { return claim }
                    wait()
                }
            }
            if claim == .stop { return }
            if claim == .skip { continue }
            let result = Result { () throws(StoreError) -> BlobFile.Identity in
                let file = try store.openBlobFile(blob)
                defer { close(file.fd) }
                try store.verify(file)
                return file.identity
            }
            finish(blob, result, ahead: true)
        }
    }

    /// The thread of the blobs up to ``checkedBeforeOpen``: hashes those not yet claimed side by
    /// side. The lanes take blobs while the lookahead has room; when it has none, the blobs in the
    /// lanes are finished and the thread waits for the plugins to open some.
    private func hashAheadSideBySide(_ blobs: [BlobRef]) {
        var position = 0
        while position < blobs.count {
            // Wait until the next blob to hash fits, skipping those already dealt with.
            let go = state.withLock { state, wait -> Bool in
                while position < blobs.count {
                    guard !state.pointee.stopped else { return false }
                    let blob = blobs[position]
                    if state.pointee.verified[blob.digest] != nil || state.pointee.failed[blob.digest] != nil
                        || state.pointee.hashing.contains(blob.digest) {
                        position += 1
                        continue
                    }
                    let ahead = state.pointee.aheadBytes + state.pointee.inFlight
                    if ahead == 0 || ahead + blob.size <= Self.lookahead { return true }
                    wait()
                }
                return false
            }
            guard go else { return }
            store.verify(next: { () -> BlobFile? in
                while position < blobs.count {
                    let blob = blobs[position]
                    let claim = state.withLock { state, _ -> Claim in
                        let claim = self.claim(blob, state)
                        if claim == .hash { state.pointee.inFlight += blob.size }
                        return claim
                    }
                    switch claim {
                    case .stop, .wait: return nil
                    case .skip: position += 1
                    case .hash:
                        position += 1
                        do throws(StoreError) { return try store.openBlobFile(blob) } catch {
                            state.withLock { state, _ in state.pointee.inFlight -= blob.size }
                            finish(blob, .failure(error), ahead: true)
                        }
                    }
                }
                return nil
            }, done: { file, outcome in
                close(file.fd)
                state.withLock { state, _ in state.pointee.inFlight -= file.blob.size }
                finish(file.blob, outcome.map { file.identity }, ahead: true)
            })
        }
    }
}
