import PFModel

extension SnapshotStore {
    /// Records a snapshot whose blobs are all in the store already (a pull wrote them through
    /// ``BlobWriter``): checks the whole closure of `root`, makes every blob durable, and lists the
    /// snapshot in `index.json` through the locked commit protocol, moving `tag` to it when given.
    ///
    /// This is the store's one entry point for snapshots that arrive from elsewhere; a store format
    /// that lays snapshots out differently provides its own with the same signature. Here, `root`
    /// is the snapshot's OCI image manifest.
    ///
    /// ```swift
    /// try store.adoptSnapshot(root: OCIDescriptor(mediaType: MediaType.ociManifest, digest: id, size: size), tag: "main")
    /// ```
    ///
    /// - Throws: ``StoreError/missingBlob(_:store:)`` when a blob of the snapshot is absent or has
    ///   another size; ``StoreError/corrupt(file:reason:)`` when the root is not a pfhost snapshot
    ///   of this format; ``StoreError/invalidReference(_:reason:)`` for a malformed tag.
    /// - Returns: the snapshot adopted.
    @discardableResult
    public func adoptSnapshot(root: OCIDescriptor, tag: String?) throws(StoreError) -> Snapshot {
        if let tag, !IndexEdit.isValidTag(tag) {
            throw .invalidReference(tag, reason: "a tag is 1 to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'")
        }
        guard root.mediaType == MediaType.ociManifest else {
            throw .corrupt(file: blobPath(root.digest), reason: "a snapshot's root is an OCI image manifest in this store format, not \(root.mediaType)")
        }
        guard try size(of: root.digest) == root.size else { throw .missingBlob(root.digest, store: path) }
        // Reads and re-hashes the manifest and the config, and decodes both.
        let snapshot = try snapshot(root.digest)
        for blob in snapshot.ociManifest.layers + [snapshot.ociManifest.config] {
            guard try size(of: blob.digest) == blob.size else { throw .missingBlob(blob.digest, store: path) }
        }
        // Every blob a layer names must be among the OCI layers, as verify checks.
        let listed = Dictionary(snapshot.ociManifest.layers.map { ($0.digest, $0.size) }, uniquingKeysWith: { first, _ in first })
        for summary in snapshot.manifest.layerSummaries {
            for blob in summary.blobs where listed[blob.digest] != blob.size {
                throw .corrupt(file: blobPath(root.digest), reason: "layer \(summary.kind.rawValue) names blob \(blob.digest), which the OCI manifest does not list with size \(blob.size)")
            }
        }
        try flush()
        let entry = OCIDescriptor(
            mediaType: MediaType.ociManifest, digest: root.digest, size: root.size,
            artifactType: MediaType.snapshotArtifact, annotations: [AnnotationKey.created: snapshot.manifest.createdAt])
        try updateIndex({ index in IndexEdit.add(entry, tag: tag, to: &index) }, raw: { $0.add(entry, tag: tag) })
        return snapshot
    }
}
