import PFModel
import PFStore
import PFSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `pfhost push`: sends a snapshot and the ancestors the registry lacks.
///
/// The snapshot's graph is walked from its root by media type (index → manifests → config and
/// layers), so any store layout goes up as it is. Every blob is checked with `HEAD` first and sent
/// only when missing (or mounted from `mountFrom`); then manifests go up bottom-up, ancestors
/// oldest first and by digest (no tag needed), the snapshot last, under the destination's tag.
///
/// ```swift
/// let report = try SnapshotPusher(store: store, destination: try RegistryReference(parsing: "localhost:5000/agents/a:v1"),
///                                 options: TransferOptions(plainHTTP: true)).push(id)
/// ```
public final class SnapshotPusher: Sendable {
    let store: SnapshotStore
    let destination: RegistryReference
    let options: TransferOptions
    let session: RegistrySession

    /// A pusher of snapshots of `store` to `destination`.
    public init(store: SnapshotStore, destination: RegistryReference, options: TransferOptions) {
        self.store = store
        self.destination = destination
        self.options = options
        session = options.session(for: destination, push: true)
    }

    /// Pushes snapshot `id` and its ancestors (up to ``TransferOptions/depth``) that the registry lacks.
    public func push(_ id: Digest) throws(RegistryError) -> TransferReport {
        if let digest = destination.digest, digest != id {
            throw .invalidReference(destination.description, reason: "it names \(digest), but the snapshot is \(id)")
        }
        let client = try RegistryClient(session: session)
        var report = TransferReport()
        report.id = id
        let chain = try snapshotsToPush(id, client: client, report: &report)
        // Every blob of every snapshot first (in parallel), then the manifests that point at them.
        var graphs: [(root: GraphNode, manifests: [(node: GraphNode, bytes: [UInt8])])] = []
        var blobs: [GraphNode] = []
        var seen = Set<Digest>()
        for snapshot in chain {
            let walked = try walk(snapshot)
            graphs.append(walked.graph)
            for blob in walked.blobs where seen.insert(blob.digest).inserted { blobs.append(blob) }
        }
        let counters = SharedReport(report)
        let progress = TransferProgress(blobs: blobs, report: options.progress)
        try TransferPool.run(blobs, width: options.parallel, session: session, first: client) { [self] blob, client throws(RegistryError) in
            try self.pushBlob(blob, client: client, report: counters)
            progress.advance(blob.size)
        }
        report = counters.value
        for (number, graph) in graphs.enumerated() {
            let isRequested = number == graphs.count - 1
            for manifest in graph.manifests {
                let tagged = isRequested && manifest.node == graph.root
                let reference = tagged ? destination.tag ?? manifest.node.digest.description : manifest.node.digest.description
                try client.putManifest(manifest.bytes, mediaType: manifest.node.mediaType, reference: reference)
                report.manifests += 1
            }
        }
        report.snapshots = chain
        return report
    }

    /// The snapshot and its ancestors to push, oldest first: parents are followed (every parent,
    /// breadth first, up to the depth) until one the registry has (it was pushed with its own
    /// ancestors) or the local store lacks.
    private func snapshotsToPush(_ id: Digest, client: RegistryClient, report: inout TransferReport) throws(RegistryError) -> [Digest] {
        var order: [Digest] = [id]
        var seen: Set<Digest> = [id]
        var generation = [id]
        var depth = 0
        while !generation.isEmpty, options.depth.map({ depth < $0 }) ?? true {
            var next: [Digest] = []
            for snapshot in generation {
                let parents: [Digest]
                do { parents = try store.snapshot(snapshot).manifest.parents } catch { throw .store(error) }
                for parent in parents where seen.insert(parent).inserted {
                    guard store.has(parent) else {
                        report.missing.append(parent)
                        continue
                    }
                    if try client.hasManifest(parent) {
                        report.present.append(parent)
                        continue
                    }
                    order.append(parent)
                    next.append(parent)
                }
            }
            generation = next
            depth += 1
        }
        return order.reversed()
    }

    /// The graph of snapshot `id` from the store: its manifests bottom-up (root last) with their
    /// bytes, and every blob they point to.
    private func walk(_ id: Digest) throws(RegistryError) -> (graph: (root: GraphNode, manifests: [(node: GraphNode, bytes: [UInt8])]), blobs: [GraphNode]) {
        var manifests: [(node: GraphNode, bytes: [UInt8])] = []
        var blobs: [GraphNode] = []
        var visited = Set<Digest>()
        func visit(_ node: GraphNode, depth: Int) throws(RegistryError) {
            guard visited.insert(node.digest).inserted else { return }
            guard depth < 8 else { throw .notASnapshot("snapshot \(id)", reason: "its manifests nest deeper than 8 levels") }
            let bytes: [UInt8]
            do { bytes = try store.readBlob(node.digest) } catch { throw .store(error) }
            let document = try GraphNode.children(of: bytes, what: "manifest \(node.digest)")
            for child in document.children {
                if child.isManifest { try visit(child, depth: depth + 1) } else { blobs.append(child) }
            }
            manifests.append((node, bytes))
        }
        let rootBytes: [UInt8]
        do { rootBytes = try store.readBlob(id) } catch { throw .store(error) }
        let mediaType = try GraphNode.children(of: rootBytes, what: "snapshot \(id)").mediaType ?? MediaType.ociManifest
        let root = GraphNode(mediaType: mediaType, digest: id, size: Int64(rootBytes.count))
        try visit(root, depth: 0)
        return ((root, manifests), blobs)
    }

    /// Sends one blob unless the registry has it: `HEAD`, then a mount from each `mountFrom`
    /// repository, then an upload from the store's file.
    private func pushBlob(_ blob: GraphNode, client: RegistryClient, report: SharedReport) throws(RegistryError) {
        if let size = try client.blobSize(blob.digest), size == blob.size || size < 0 {
            report.update { $0.blobsSkipped += 1; $0.bytesSkipped += blob.size }
            return
        }
        for source in options.mountFrom where source != destination.repository {
            if try client.mount(blob.digest, from: source) {
                report.update { $0.blobsMounted += 1; $0.bytesSkipped += blob.size }
                return
            }
        }
        let path = store.blobPath(blob.digest)
        let system = SystemCalls()
        let fd: Int32
        do {
            fd = try system.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)
        } catch where error.code == ENOENT {
            throw .store(.missingBlob(blob.digest, store: store.path))
        } catch {
            throw .store(.io(step: "opening blob \(blob.digest)", error))
        }
        defer { try? system.close(fd, path: path) }
        let info: stat
        do { info = try system.status(fd, path: path) } catch { throw .store(.io(step: "reading blob \(blob.digest)", error)) }
        guard info.st_mode & S_IFMT == S_IFREG, Int64(info.st_size) == blob.size else {
            throw .store(.corrupt(file: path, reason: "it is not a regular file of \(blob.size) bytes"))
        }
        let outcome = try client.uploadBlob(blob.digest, size: blob.size, fd: fd, path: path,
                                            monolithicLimit: options.chunkSize, chunkSize: options.chunkSize)
        report.update {
            $0.blobsTransferred += 1
            $0.bytesTransferred += outcome.bytesSent
            $0.resumed += outcome.resumed
        }
    }
}
