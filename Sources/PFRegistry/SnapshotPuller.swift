import PFModel
import PFStore
import Synchronization

/// `pfhost pull`: fetches a snapshot and its ancestors into the local store.
///
/// The snapshot's graph is walked from its root manifest by media type, so any layout comes down
/// as it was pushed. Every manifest and blob is checked against its digest as it arrives (a blob
/// through ``BlobWriter``, hashed while written and installed only when it matches); blobs the
/// store has are not fetched. Parents come from the pfhost manifest and are fetched by digest up
/// to the depth. Snapshots are committed oldest first through the store's commit protocol
/// (``SnapshotStore/adoptSnapshot(root:tag:)``), so a pull killed at any point leaves a valid store.
///
/// ```swift
/// let report = try SnapshotPuller(store: store, source: try RegistryReference(parsing: "localhost:5000/agents/a:v1"),
///                                 options: TransferOptions(plainHTTP: true)).pull(tag: "a")
/// ```
public final class SnapshotPuller: Sendable {
    let store: SnapshotStore
    let source: RegistryReference
    let options: TransferOptions
    let session: RegistrySession

    /// The most parents one snapshot may list: more is a malformed snapshot (a hostile one would make
    /// the pull walk for ever, one request each).
    public static let parentLimit = 1024
    /// The largest JSON document (a snapshot's or a layer's config) a pull accepts: the store reads none larger.
    public static let documentLimit: Int64 = 64 << 20

    /// A puller of snapshots from `source` into `store`.
    public init(store: SnapshotStore, source: RegistryReference, options: TransferOptions) {
        self.store = store
        self.source = source
        self.options = options
        session = options.session(for: source, push: false)
    }

    /// Pulls the snapshot `source` names, and its ancestors, and moves `tag` (default: the source's
    /// tag) to it.
    public func pull(tag: String?) throws(RegistryError) -> TransferReport {
        // A pull is a writer like a snapshot: first remove what killed writers left in ingest/.
        do { try store.reclaimAbandonedFiles() } catch { throw .store(error) }
        do {
            return try pullGraphs(tag: tag)
        } catch {
            // Every blob written so far was checked against its digest: keep it, so that running the
            // pull again fetches only the rest (and no temporary file is left behind).
            try? store.flush()
            throw error
        }
    }

    private func pullGraphs(tag: String?) throws(RegistryError) -> TransferReport {
        guard let reference = source.manifestReference else {
            throw .invalidReference(source.description, reason: "it names neither a tag nor a digest")
        }
        let client = try RegistryClient(session: session)
        var report = TransferReport()
        let (rootBytes, _) = try client.manifest(reference)
        let id = Digest.of(rootBytes)
        if let expected = source.digest, expected != id {
            throw .protocolViolation(registry: source.registry, what: "reading manifest \(expected)", reason: "its bytes hash to \(id)")
        }
        report.id = id
        let rootDocument = try GraphNode.children(of: rootBytes, what: source.description)
        guard GraphNode.isPfhost(rootDocument.json) else {
            throw .notASnapshot(source.description, reason: "its manifest has no pfhost artifactType or config media type (was it pushed by pfhost or copied from a pfhost store?)")
        }
        // Generation by generation: fetch each snapshot's graph, then read its parents.
        var fetched: [GraphNode] = []
        var seen: Set<Digest> = [id]
        var generation: [(digest: Digest, bytes: [UInt8]?)] = [(id, rootBytes)]
        var depth = 0
        while !generation.isEmpty {
            var next: [(digest: Digest, bytes: [UInt8]?)] = []
            for (digest, bytes) in generation {
                if digest != id, listed(digest) {
                    report.present.append(digest)
                    continue
                }
                let root: GraphNode
                do {
                    root = try fetch(digest, bytes: bytes, client: client, report: &report)
                } catch {
                    guard digest != id, case .notFound = error else { throw error }
                    report.missing.append(digest)
                    continue
                }
                fetched.append(root)
                guard options.depth.map({ depth < $0 }) ?? true else { continue }
                let parents: [Digest]
                do { parents = try store.snapshot(digest).manifest.parents } catch {
                    throw .notASnapshot("\(source.with(digest: digest))", reason: "\(error)")
                }
                guard parents.count <= Self.parentLimit else {
                    throw .notASnapshot("\(source.with(digest: digest))", reason: "it lists \(parents.count) parents, more than the \(Self.parentLimit) pfhost accepts")
                }
                for parent in parents where seen.insert(parent).inserted { next.append((parent, nil)) }
            }
            generation = next
            depth += 1
        }
        // Every blob durable and in place before any snapshot is listed (the store's adoption checks
        // the closure; this makes the pull's blobs part of it whatever the store's durability mode).
        do { try store.flush() } catch { throw .store(error) }
        // Oldest first, so that every snapshot listed has its ancestors listed before it.
        for root in fetched.reversed() {
            let descriptor = OCIDescriptor(mediaType: root.mediaType, digest: root.digest, size: root.size)
            do { try store.adoptSnapshot(root: descriptor, tag: root.digest == id ? tag ?? source.tag : nil) } catch { throw .store(error) }
            report.snapshots.append(root.digest)
        }
        return report
    }

    /// Whether the local store lists snapshot `digest` already.
    private func listed(_ digest: Digest) -> Bool {
        (try? store.resolve(digest.description)) != nil
    }

    /// Fetches the graph of the snapshot whose root manifest is `digest` (its bytes, when already
    /// read): manifests checked and stored, missing blobs downloaded in parallel. Returns the root.
    private func fetch(_ digest: Digest, bytes: [UInt8]?, client: RegistryClient, report: inout TransferReport) throws(RegistryError) -> GraphNode {
        var blobs: [GraphNode] = []
        var visited = Set<Digest>()
        var root: GraphNode?
        func visit(_ digest: Digest, bytes known: [UInt8]?, declared: GraphNode?, depth: Int) throws(RegistryError) {
            guard visited.insert(digest).inserted else { return }
            guard depth < 8 else { throw .notASnapshot("\(source.with(digest: digest))", reason: "its manifests nest deeper than 8 levels") }
            let document: [UInt8]
            if let known {
                document = known
            } else {
                document = try client.manifest(digest.description).bytes
                report.manifests += 1
            }
            guard Digest.of(document) == digest else {
                throw .protocolViolation(registry: source.registry, what: "reading manifest \(digest)", reason: "its bytes hash to \(Digest.of(document))")
            }
            if let declared, declared.size != Int64(document.count) {
                throw .protocolViolation(registry: source.registry, what: "reading manifest \(digest)", reason: "it is \(document.count) bytes, its descriptor says \(declared.size)")
            }
            let parsed = try GraphNode.children(of: document, what: "manifest \(digest)")
            if root == nil {
                root = GraphNode(mediaType: parsed.mediaType ?? declared?.mediaType ?? MediaType.ociManifest, digest: digest, size: Int64(document.count))
            }
            for child in parsed.children {
                if [MediaType.snapshotConfig, MediaType.layerConfig].contains(child.mediaType), child.size > Self.documentLimit {
                    throw .notASnapshot("manifest \(digest)", reason: "its config \(child.digest) is a document of \(child.size) bytes, larger than \(Self.documentLimit >> 20) MiB")
                }
                if child.isManifest { try visit(child.digest, bytes: nil, declared: child, depth: depth + 1) } else { blobs.append(child) }
            }
            do { _ = try store.putBlob(document) } catch { throw .store(error) }
        }
        if bytes != nil { report.manifests += 1 }
        try visit(digest, bytes: bytes, declared: nil, depth: 0)
        var wanted: [GraphNode] = []
        var seen = Set<Digest>()
        for blob in blobs where seen.insert(blob.digest).inserted {
            if (try? store.size(of: blob.digest)) == blob.size {
                report.blobsSkipped += 1
                report.bytesSkipped += blob.size
            } else {
                wanted.append(blob)
            }
        }
        let counters = SharedReport(report)
        let progress = TransferProgress(blobs: wanted, report: options.progress)
        try TransferPool.run(wanted, width: options.parallel, session: session, first: client) { [self] blob, client throws(RegistryError) in
            try self.download(blob, client: client, report: counters, progress: progress)
        }
        report = counters.value
        return root!
    }

    /// Downloads one blob through a ``BlobWriter``, installed only when its bytes hash to its digest.
    private func download(_ blob: GraphNode, client: RegistryClient, report: SharedReport, progress: TransferProgress) throws(RegistryError) {
        let writer: BlobWriter
        do { writer = try store.makeWriter() } catch { throw .store(error) }
        let outcome = try client.downloadBlob(blob.digest, size: blob.size) { bytes in
            try writer.write(bytes)
            progress.advance(Int64(bytes.count))
        }
        do {
            _ = try writer.commit(expecting: BlobRef(digest: blob.digest, size: blob.size))
        } catch {
            if case .corrupt(_, let reason) = error {
                throw .protocolViolation(registry: source.registry, what: "downloading blob \(blob.digest)", reason: reason)
            }
            throw .store(error)
        }
        report.update {
            $0.blobsTransferred += 1
            $0.bytesTransferred += outcome.bytes
            $0.resumed += outcome.resumed
        }
    }
}
