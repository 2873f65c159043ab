import PFModel
import PFSystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension SnapshotStore {
    /// The store's `index.json`.
    ///
    /// - Throws: ``StoreError/corrupt(file:reason:)`` when it is not a valid OCI image index.
    public func readIndex() throws(StoreError) -> OCIIndex {
        let bytes = try step("reading \(indexPath)") { () throws(SystemCallError) in try system.readFile(indexPath, followSymlinks: false) }
        return try Self.decodeIndex(bytes, file: indexPath)
    }

    static func decodeIndex(_ bytes: [UInt8], file: String) throws(StoreError) -> OCIIndex {
        let index: OCIIndex
        do {
            index = try CanonicalJSON.decode(OCIIndex.self, from: bytes)
        } catch {
            throw .corrupt(file: file, reason: describeJSONError(error))
        }
        guard index.schemaVersion == 2 else {
            throw .corrupt(file: file, reason: "schemaVersion is \(index.schemaVersion), expected 2")
        }
        return index
    }

    /// Commits a snapshot: stores `manifest` as the config blob, stores the OCI manifest that
    /// lists every blob of every layer, flushes, and adds the snapshot to `index.json` (moving
    /// `tag` to it). The index rename is the commit point: when this throws, the index is as it
    /// was and the snapshot is not visible.
    ///
    /// - Returns: the snapshot's content id, the digest of its OCI manifest.
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
    /// unchanged: parents are history, never content) and the snapshot's documents are written
    /// again, so that concurrent writers to one tag form one chain instead of losing history.
    ///
    /// - Returns: the content id and the manifest committed (its parents as committed).
    public func commit(_ manifest: Manifest, tag: String?, onTagHead: Bool) throws(StoreError) -> (id: Digest, manifest: Manifest) {
        if let tag, !IndexEdit.isValidTag(tag) {
            throw .invalidReference(tag, reason: "a tag is 1 to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'")
        }
        var manifest = manifest
        while true {
            let entry = try storeDocuments(of: manifest)
            let follow = onTagHead ? tag.map { (tag: $0, head: manifest.parents.first) } : nil
            let moved = try updateIndex({ index in IndexEdit.add(entry, tag: tag, to: &index) }, raw: { $0.add(entry, tag: tag) },
                                        unlessMoved: follow)
            guard let head = moved else { return (entry.digest, manifest) }
            manifest.parents = [head] + manifest.parents.dropFirst().filter { $0 != head }
        }
    }

    /// Writes a snapshot's config (the pfhost manifest) and OCI manifest, flushes every blob, and
    /// returns the index entry that commits it.
    private func storeDocuments(of manifest: Manifest) throws(StoreError) -> OCIDescriptor {
        var layers: [OCIDescriptor] = []
        var position: [Digest: Int] = [:]
        for summary in manifest.layerSummaries {
            for blob in summary.blobs {
                if let at = position[blob.digest] {
                    var kinds = layers[at].annotations?[AnnotationKey.layerKinds]?.split(separator: ",").map(String.init) ?? []
                    if !kinds.contains(summary.kind.rawValue) { kinds.append(summary.kind.rawValue) }
                    layers[at].annotations?[AnnotationKey.layerKinds] = kinds.joined(separator: ",")
                    continue
                }
                guard try size(of: blob.digest) == blob.size else { throw .missingBlob(blob.digest, store: path) }
                position[blob.digest] = layers.count
                layers.append(OCIDescriptor(
                    mediaType: blob.mediaType, digest: blob.digest, size: blob.size,
                    annotations: [AnnotationKey.layerKinds: summary.kind.rawValue]))
            }
        }
        if layers.isEmpty {
            let empty = try putBlob(Array("{}".utf8))
            layers.append(OCIDescriptor(mediaType: MediaType.ociEmpty, digest: empty.digest, size: empty.size))
        }
        let configBytes: [UInt8]
        do { configBytes = try CanonicalJSON.encode(manifest) } catch {
            throw .corrupt(file: "the new snapshot's manifest", reason: "\(error)")
        }
        let config = try putBlob(configBytes)
        let oci = OCIManifest(
            artifactType: MediaType.snapshotArtifact,
            config: OCIDescriptor(mediaType: MediaType.snapshotConfig, digest: config.digest, size: config.size),
            layers: layers,
            annotations: [AnnotationKey.created: manifest.createdAt])
        let ociBytes = try! CanonicalJSON.encode(oci)
        let id = try putBlob(ociBytes)
        try flush()
        return OCIDescriptor(
            mediaType: MediaType.ociManifest, digest: id.digest, size: id.size,
            artifactType: MediaType.snapshotArtifact, annotations: [AnnotationKey.created: manifest.createdAt])
    }

    /// Rewrites `index.json` under the store's exclusive lock: read the current index, apply
    /// `edit`, write `ingest/index.json.tmp`, fsync it, rename it over `index.json`, fsync the
    /// store directory. When the last fsync fails the previous index is put back, so a failed
    /// update is never visible.
    ///
    /// `raw`, when given, makes the same edit on a ``RawIndex`` and is used whenever the index
    /// is in pfhost's canonical form (and `raw` returns true), so the cost is a copy of the index,
    /// not a decoding of it.
    ///
    /// With `unlessMoved`, nothing is written when the tag's head is no longer `head` (and is some
    /// snapshot): the current head is returned instead, for the caller to rebase onto.
    @discardableResult
    func updateIndex(_ edit: (inout OCIIndex) -> Void, raw: ((inout RawIndex) -> Bool)? = nil,
                     unlessMoved follow: (tag: String, head: Digest?)? = nil) throws(StoreError) -> Digest? {
        let lockPath = ingestPath + "/index.lock"
        let temporary = ingestPath + "/index.json.tmp"
        let sync = durability != .none
        let lock = try step("locking the index (\(lockPath))") { () throws(SystemCallError) in
            // Never through a symlink (it could make pfhost create a file anywhere), never a FIFO.
            let fd = try system.open(lockPath, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK, mode: 0o644)
            do throws(SystemCallError) {
                guard try system.status(fd, path: lockPath).st_mode & S_IFMT == S_IFREG else {
                    throw SystemCallError(operation: "open", path: lockPath, code: EINVAL)
                }
                try system.lockExclusive(fd, path: lockPath)
            } catch {
                try? system.close(fd, path: lockPath)
                throw error
            }
            return fd
        }
        // Closing the descriptor releases the lock.
        defer { try? system.close(lock, path: lockPath) }
        let oldBytes = try step("reading \(indexPath)") { () throws(SystemCallError) in try system.readFile(indexPath, followSymlinks: false) }
        if let follow {
            let listed: [(Digest, String?)]
            if let raw = RawIndex(oldBytes) { listed = raw.entries.map { ($0.digest, $0.refName) } } else {
                listed = try Self.decodeIndex(oldBytes, file: indexPath).manifests.map { ($0.digest, $0.refName) }
            }
            if let current = listed.first(where: { $0.1 == follow.tag })?.0, current != follow.head { return current }
        }
        let newBytes: [UInt8]
        if let raw, var rawIndex = RawIndex(oldBytes), raw(&rawIndex) {
            newBytes = rawIndex.encoded()
        } else {
            var index = try Self.decodeIndex(oldBytes, file: indexPath)
            edit(&index)
            newBytes = try! CanonicalJSON.encode(index)
        }
        try step("writing \(temporary)") { () throws(SystemCallError) in
            try system.writeFile(temporary, newBytes, sync: sync)
        }
        try step("replacing \(indexPath)") { () throws(SystemCallError) in try system.rename(temporary, indexPath) }
        guard sync else { return nil }
        do {
            try system.fsyncDirectory(path)
        } catch {
            // The new index may or may not survive a crash: restore the old one.
            try? system.writeFile(temporary, oldBytes, sync: true)
            try? system.rename(temporary, indexPath)
            throw .io(step: "flushing \(path) after replacing index.json (the previous index was restored)", error)
        }
        return nil
    }

    /// Resolves a reference to a snapshot's content id.
    ///
    /// A reference is a full content id (`sha256:<64 hex>`), a tag, or a unique prefix of at
    /// least 12 hex digits (with or without `sha256:`). A tag wins over a prefix that spells
    /// the same text.
    public func resolve(_ reference: String) throws(StoreError) -> Digest {
        let listed = try listedSnapshots()
        if let entry = listed.first(where: { $0.refName == reference }) { return entry.digest }
        var prefix = reference
        if reference.hasPrefix("sha256:") {
            prefix = String(reference.dropFirst("sha256:".count))
            if prefix.utf8.count == 64 {
                let digest: Digest
                do { digest = try Digest(parsing: reference) } catch {
                    throw .invalidReference(reference, reason: error.description)
                }
                guard listed.contains(where: { $0.digest == digest }) else {
                    throw .notFound(reference: reference, store: path)
                }
                return digest
            }
        }
        let isHex = !prefix.isEmpty && prefix.utf8.allSatisfy {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0)
        }
        guard isHex, prefix.utf8.count <= 64 else { throw .notFound(reference: reference, store: path) }
        guard prefix.utf8.count >= 12 else {
            throw .invalidReference(reference, reason: "a content-id prefix needs at least 12 hex digits")
        }
        let matches = Set(listed.map(\.digest).filter { $0.hex.hasPrefix(prefix) }).sorted()
        switch matches.count {
        case 0: throw .notFound(reference: reference, store: path)
        case 1: return matches[0]
        default: throw .ambiguous(reference: reference, candidates: matches)
        }
    }

    /// Reads the snapshot with content id `id`, checking every byte it reads against its digest.
    public func snapshot(_ id: Digest) throws(StoreError) -> Snapshot {
        let ociBytes = try readBlob(id)
        let oci: OCIManifest
        do { oci = try CanonicalJSON.decode(OCIManifest.self, from: ociBytes) } catch {
            throw .corrupt(file: blobPath(id), reason: "not an OCI image manifest: \(describeJSONError(error))")
        }
        guard oci.artifactType == MediaType.snapshotArtifact, oci.config.mediaType == MediaType.snapshotConfig else {
            throw .corrupt(file: blobPath(id), reason: "not a pfhost snapshot (artifactType \(oci.artifactType ?? "none"))")
        }
        let configBytes = try readBlob(oci.config.digest)
        guard Int64(configBytes.count) == oci.config.size else {
            throw .corrupt(file: blobPath(oci.config.digest), reason: "size \(configBytes.count), its descriptor says \(oci.config.size)")
        }
        let manifest: Manifest
        do { manifest = try CanonicalJSON.decode(Manifest.self, from: configBytes) } catch {
            throw .corrupt(file: blobPath(oci.config.digest), reason: "not a pfhost manifest: \(describeJSONError(error))")
        }
        return Snapshot(id: id, ociManifest: oci, manifest: manifest)
    }

    /// The pfhost manifest of snapshot `id` as parsed JSON, every byte checked against its digest
    /// but not decoded: for reading parts of it (a parent's layers) without the cost of the whole.
    public func manifestJSON(_ id: Digest) throws(StoreError) -> JSONValue {
        let oci: JSONValue
        do { oci = try JSONParser.parse(readBlob(id)) } catch let error as StoreError { throw error } catch {
            throw .corrupt(file: blobPath(id), reason: "not JSON: \(error)")
        }
        guard let text = oci["config"]?["digest"]?.stringValue, let config = try? Digest(parsing: text) else {
            throw .corrupt(file: blobPath(id), reason: "not an OCI image manifest: no config digest")
        }
        do { return try JSONParser.parse(readBlob(config)) } catch let error as StoreError { throw error } catch {
            throw .corrupt(file: blobPath(config), reason: "not JSON: \(error)")
        }
    }

    /// The snapshot a tag names, or nil when the tag is not in the index.
    public func snapshotID(tagged tag: String) throws(StoreError) -> Digest? {
        try listedSnapshots().first { $0.refName == tag }?.digest
    }

    /// The digest and tag of every entry in `index.json`, in order: read out of the raw bytes
    /// when the index is in pfhost's canonical form, else from the decoded index.
    func listedSnapshots() throws(StoreError) -> [(digest: Digest, refName: String?)] {
        let bytes = try step("reading \(indexPath)") { () throws(SystemCallError) in try system.readFile(indexPath, followSymlinks: false) }
        if let raw = RawIndex(bytes) { return raw.entries.map { ($0.digest, $0.refName) } }
        return try Self.decodeIndex(bytes, file: indexPath).manifests.map { ($0.digest, $0.refName) }
    }
}
