import PFModel
import PFSystem

extension SnapshotStore {
    /// Writes a snapshot's documents (each layer's config and manifest, then the snapshot index),
    /// flushes every blob, and returns the root's descriptor. An unchanged layer's documents are
    /// already in the store and are not written again.
    ///
    /// `reusing` names, for layers known to be a parent's layer unchanged, the stored config that
    /// holds that layer's canonical JSON (``StoredLayer/config``): such a layer is neither encoded
    /// again nor are its blobs looked up again (the caller checked them; see ``commit(_:tag:onTagHead:reusing:)``).
    func storeDocuments(of manifest: Manifest, reusing: [LayerKind: OCIDescriptor] = [:]) throws(StoreError) -> OCIDescriptor {
        var entries: [OCIDescriptor] = []
        for summary in manifest.layerSummaries {
            let reused = reusing[summary.kind]
            var layers: [OCIDescriptor] = []
            var seen = Set<Digest>()
            for blob in summary.blobs where seen.insert(blob.digest).inserted {
                if reused == nil {
                    guard try size(of: blob.digest) == blob.size else { throw .missingBlob(blob.digest, store: path) }
                }
                layers.append(OCIDescriptor(mediaType: blob.mediaType, digest: blob.digest, size: blob.size))
            }
            if layers.isEmpty {
                let empty = try putBlob(Array("{}".utf8))
                layers.append(OCIDescriptor(mediaType: MediaType.ociEmpty, digest: empty.digest, size: empty.size))
            }
            let config: OCIDescriptor
            if let reused {
                config = OCIDescriptor(mediaType: MediaType.layerConfig, digest: reused.digest, size: reused.size)
            } else {
                let bytes: [UInt8]
                do { bytes = try manifest.encodedLayer(summary.kind) } catch {
                    throw .corrupt(file: "the new snapshot's manifest", reason: "\(error)")
                }
                let stored = try putBlob(bytes)
                config = OCIDescriptor(mediaType: MediaType.layerConfig, digest: stored.digest, size: stored.size)
            }
            let layerManifest = OCIManifest(artifactType: MediaType.layerArtifact, config: config, layers: layers, annotations: nil)
            let stored = try putBlob(layerManifest.canonicalJSON)
            entries.append(OCIDescriptor(mediaType: MediaType.ociManifest, digest: stored.digest, size: stored.size,
                                         annotations: [AnnotationKey.layerKinds: summary.kind.rawValue]))
        }
        var annotations = [
            AnnotationKey.agentKind: manifest.agent.kind, AnnotationKey.agentVersion: manifest.agent.version,
            AnnotationKey.agentFingerprint: manifest.agent.fingerprint, AnnotationKey.created: manifest.createdAt,
            AnnotationKey.snapshot: MediaType.snapshotIndexArtifact,
        ]
        if !manifest.parents.isEmpty { annotations[AnnotationKey.parents] = manifest.parents.map(\.description).joined(separator: ",") }
        let index = OCIIndex(manifests: entries, annotations: annotations)
        let root = try putBlob(try! CanonicalJSON.encode(index))
        try flush()
        return OCIDescriptor(mediaType: MediaType.ociIndex, digest: root.digest, size: root.size)
    }

    /// Reads the snapshot with content id `id`, checking every document it reads against its
    /// digest (layer blobs are not read: ``StoreVerifier`` re-hashes them).
    public func snapshot(_ id: Digest) throws(StoreError) -> Snapshot {
        let bytes = try readBlob(id)
        let root = try parseDocument(bytes, id)
        if root["mediaType"]?.stringValue == MediaType.ociIndex {
            return try snapshotIndex(id, root, size: Int64(bytes.count))
        }
        return try snapshotManifest(id, root, size: Int64(bytes.count))
    }

    private func parseDocument(_ bytes: [UInt8], _ digest: Digest) throws(StoreError) -> JSONValue {
        do { return try JSONParser.parse(bytes) } catch {
            throw .corrupt(file: blobPath(digest), reason: "not JSON: \(error)")
        }
    }

    private func decodeDocument<T: Decodable>(_ type: T.Type, _ value: JSONValue, _ digest: Digest, what: String) throws(StoreError) -> T {
        do { return try CanonicalJSON.decode(type, from: value) } catch {
            throw .corrupt(file: blobPath(digest), reason: "not \(what): \(describeJSONError(error))")
        }
    }

    /// A document a descriptor names, read and checked against its digest and size.
    private func readDocument(_ descriptor: OCIDescriptor) throws(StoreError) -> [UInt8] {
        let bytes = try readBlob(descriptor.digest)
        guard Int64(bytes.count) == descriptor.size else {
            throw .corrupt(file: blobPath(descriptor.digest), reason: "size \(bytes.count), its descriptor says \(descriptor.size)")
        }
        return bytes
    }

    /// A snapshot index's layer entries, checked: five OCI manifests, model to trace.
    private func layerEntries(_ index: OCIIndex, _ id: Digest) throws(StoreError) -> [OCIDescriptor] {
        guard index.annotations?[AnnotationKey.snapshot] == MediaType.snapshotIndexArtifact else {
            throw .corrupt(file: blobPath(id), reason: "not a pfhost snapshot (no \(AnnotationKey.snapshot) annotation saying \(MediaType.snapshotIndexArtifact))")
        }
        guard index.manifests.count == LayerKind.allCases.count,
              zip(index.manifests, LayerKind.allCases).allSatisfy({ entry, kind in
                  entry.mediaType == MediaType.ociManifest && entry.annotations?[AnnotationKey.layerKinds] == kind.rawValue
              }) else {
            throw .corrupt(file: blobPath(id), reason: "a snapshot index lists five layer manifests, annotated model, cache, world, effects and trace, in that order")
        }
        return index.manifests
    }

    /// A layer manifest, checked: re-hashed, a pfhost layer manifest, no negative size.
    private func layerManifest(_ entry: OCIDescriptor) throws(StoreError) -> OCIManifest {
        try layerManifest(entry, bytes: readDocument(entry))
    }

    /// ``layerManifest(_:)`` of the document `entry` names, already read as `bytes`.
    private func layerManifest(_ entry: OCIDescriptor, bytes: [UInt8]) throws(StoreError) -> OCIManifest {
        let value = try parseDocument(bytes, entry.digest)
        let manifest = try decodeDocument(OCIManifest.self, value, entry.digest, what: "an OCI image manifest")
        guard manifest.artifactType == MediaType.layerArtifact else {
            throw .corrupt(file: blobPath(entry.digest), reason: "not a pfhost layer manifest (artifactType \(manifest.artifactType ?? "none"), not \(MediaType.layerArtifact))")
        }
        guard manifest.config.mediaType == MediaType.layerConfig else {
            throw .corrupt(file: blobPath(entry.digest), reason: "not a pfhost layer manifest (its config's mediaType is \(manifest.config.mediaType), not \(MediaType.layerConfig))")
        }
        try checkSizes([manifest.config] + manifest.layers, in: entry.digest)
        return manifest
    }

    /// The config a layer manifest names, and its bytes, both checked: for readers that need only a
    /// layer's JSON. A manifest in canonical form (as pfhost writes them) is not parsed whole: its
    /// `artifactType` and `config` are read where they are, so a parent's layer manifest listing
    /// hundreds of blobs costs no more than a small one.
    private func layerConfig(_ entry: OCIDescriptor) throws(StoreError) -> (descriptor: OCIDescriptor, bytes: [UInt8]) {
        let bytes = try readDocument(entry)
        if let object = CanonicalObject(bytes), object.string("artifactType") == MediaType.layerArtifact,
           let range = object.value("config"), let config = try? CanonicalJSON.decode(OCIDescriptor.self, from: Array(bytes[range])),
           config.mediaType == MediaType.layerConfig, (0...Int64(Self.maximumLayerBytes)).contains(config.size) {
            return (config, try readLayerConfig(config, in: entry))
        }
        let manifest = try layerManifest(entry, bytes: bytes)
        return (manifest.config, try readLayerConfig(manifest.config, in: entry))
    }

    /// The largest layer JSON: what `set_layer` takes. A layer describes its content, which goes in
    /// blobs; no capture can store a larger one, and a reader parses it whole.
    public static let maximumLayerBytes = 16 << 20

    /// The layer config `config` names, read and checked, as the layer manifest `manifest` names it:
    /// refused without being read when over ``maximumLayerBytes``, and a missing one named with the
    /// manifest that lists it.
    private func readLayerConfig(_ config: OCIDescriptor, in manifest: OCIDescriptor) throws(StoreError) -> [UInt8] {
        guard Int64(config.size) <= Int64(Self.maximumLayerBytes) else {
            throw .corrupt(file: blobPath(manifest.digest), reason: "its layer config \(config.digest) has \(config.size) bytes; a layer is at most \(Self.maximumLayerBytes >> 20) MiB of JSON")
        }
        do { return try readDocument(config) } catch {
            if case .missingBlob = error {
                throw .corrupt(file: blobPath(manifest.digest), reason: "its layer config \(config.digest) is not in the store")
            }
            throw error
        }
    }

    /// A layer manifest and its config's bytes, both checked.
    private func layerDocuments(_ entry: OCIDescriptor) throws(StoreError) -> (manifest: OCIManifest, config: [UInt8]) {
        let manifest = try layerManifest(entry)
        return (manifest, try readLayerConfig(manifest.config, in: entry))
    }

    /// Refuses a document that gives a blob a negative size: no reader may take it for anything.
    private func checkSizes(_ descriptors: [OCIDescriptor], in document: Digest) throws(StoreError) {
        if let bad = descriptors.first(where: { $0.size < 0 }) {
            throw .corrupt(file: blobPath(document), reason: "it gives blob \(bad.digest) the size \(bad.size)")
        }
    }

    /// A layer config decoded as a layer of `Content`'s kind, every blob it names checked to be
    /// among its layer manifest's layers (`listed`) with the same size.
    private func decodeLayer<Content: LayerContent>(_ type: Content.Type, config: [UInt8], configDigest: Digest, manifest: Digest,
                                                    listed: [Digest: Int64]) throws(StoreError) -> Layer<Content> {
        try decodeLayerJSON(type, config: config, configDigest: configDigest, manifest: manifest, listed: listed).layer
    }

    /// ``decodeLayer(_:config:configDigest:manifest:listed:)``, with the layer's parsed JSON: what a
    /// plugin is handed (canonically encoded), parsed once.
    private func decodeLayerJSON<Content: LayerContent>(_ type: Content.Type, config: [UInt8], configDigest: Digest, manifest: Digest,
                                                        listed: [Digest: Int64]) throws(StoreError) -> (layer: Layer<Content>, json: JSONValue) {
        let layer: Layer<Content>
        let value: JSONValue
        do {
            value = try JSONParser.parse(config)
            layer = try CanonicalJSON.decode(Layer<Content>.self, from: value)
        } catch {
            throw .corrupt(file: blobPath(configDigest), reason: "not \(Content.kind.article) \(Content.kind) layer: \(describeJSONError(error))")
        }
        for blob in layer.blobs where listed[blob.digest] != blob.size {
            throw .corrupt(file: blobPath(manifest),
                           reason: "the \(Content.kind) layer's blob \(blob.digest) (\(blob.size) bytes) is not among its layer manifest's layers")
        }
        return (layer, value)
    }

    /// What a layer manifest reaches (itself, its config, its layers), checked as ``snapshot(_:)``
    /// checks it: the config decodes as a layer of `kind` and names only blobs the manifest lists.
    private func layerClosure(_ entry: OCIDescriptor, kind: LayerKind) throws(StoreError) -> [OCIDescriptor] {
        let (layerManifest, config) = try layerDocuments(entry)
        let listed = Dictionary(layerManifest.layers.map { ($0.digest, $0.size) }) { first, _ in first }
        let configDigest = layerManifest.config.digest
        switch kind {
        case .model: _ = try decodeLayer(ModelContent.self, config: config, configDigest: configDigest, manifest: entry.digest, listed: listed)
        case .cache: _ = try decodeLayer(CacheContent.self, config: config, configDigest: configDigest, manifest: entry.digest, listed: listed)
        case .world: _ = try decodeLayer(WorldContent.self, config: config, configDigest: configDigest, manifest: entry.digest, listed: listed)
        case .effects: _ = try decodeLayer(EffectsContent.self, config: config, configDigest: configDigest, manifest: entry.digest, listed: listed)
        case .trace: _ = try decodeLayer(TraceContent.self, config: config, configDigest: configDigest, manifest: entry.digest, listed: listed)
        }
        return [entry, layerManifest.config] + layerManifest.layers
    }

    /// The header of snapshot `id`: for a snapshot index, read from the index alone (its layer
    /// entries checked, no layer read); a format-1 snapshot is read whole.
    public func header(_ id: Digest) throws(StoreError) -> SnapshotHeader {
        let bytes = try readBlob(id)
        let root = try parseDocument(bytes, id)
        guard root["mediaType"]?.stringValue == MediaType.ociIndex else {
            let manifest = try snapshotManifest(id, root, size: Int64(bytes.count)).manifest
            return SnapshotHeader(id: id, agent: manifest.agent, createdAt: manifest.createdAt, parents: manifest.parents, format: 1)
        }
        let index = try decodeDocument(OCIIndex.self, root, id, what: "an OCI image index")
        _ = try layerEntries(index, id)
        return try indexHeader(index, id)
    }

    /// The header a snapshot index's annotations give.
    private func indexHeader(_ index: OCIIndex, _ id: Digest) throws(StoreError) -> SnapshotHeader {
        let annotations = index.annotations ?? [:]
        guard let created = annotations[AnnotationKey.created] else {
            throw .corrupt(file: blobPath(id), reason: "the snapshot index has no \(AnnotationKey.created) annotation")
        }
        let parents = try parents(annotations, of: id)
        let agent = Agent(kind: annotations[AnnotationKey.agentKind] ?? "", version: annotations[AnnotationKey.agentVersion] ?? "",
                          fingerprint: annotations[AnnotationKey.agentFingerprint] ?? "")
        return SnapshotHeader(id: id, agent: agent, createdAt: created, parents: parents, format: 2)
    }

    private func snapshotIndex(_ id: Digest, _ value: JSONValue, size: Int64) throws(StoreError) -> Snapshot {
        let index = try decodeDocument(OCIIndex.self, value, id, what: "an OCI image index")
        let entries = try layerEntries(index, id)
        let header = try indexHeader(index, id)
        let root = OCIDescriptor(mediaType: MediaType.ociIndex, digest: id, size: size)
        var closure = [root]
        var configs: [[UInt8]] = []
        var configDigests: [Digest] = []
        var listed: [[Digest: Int64]] = []
        for entry in entries {
            let (layerManifest, config) = try layerDocuments(entry)
            closure += [entry, layerManifest.config] + layerManifest.layers
            configs.append(config)
            configDigests.append(layerManifest.config.digest)
            listed.append(Dictionary(layerManifest.layers.map { ($0.digest, $0.size) }) { first, _ in first })
        }
        var layerJSON: [LayerKind: [UInt8]] = [:]
        func layer<Content: LayerContent>(_ position: Int, _ type: Content.Type) throws(StoreError) -> Layer<Content> {
            let decoded = try decodeLayerJSON(type, config: configs[position], configDigest: configDigests[position],
                                              manifest: entries[position].digest, listed: listed[position])
            layerJSON[Content.kind] = CanonicalJSON.encode(decoded.json)
            return decoded.layer
        }
        let manifest = Manifest(
            agent: header.agent,
            model: try layer(0, ModelContent.self), cache: try layer(1, CacheContent.self), world: try layer(2, WorldContent.self),
            effects: try layer(3, EffectsContent.self), trace: try layer(4, TraceContent.self),
            createdAt: header.createdAt, parents: header.parents)
        return Snapshot(root: root, manifest: manifest, closure: Self.distinct(closure), layerJSON: layerJSON)
    }

    private func snapshotManifest(_ id: Digest, _ value: JSONValue, size: Int64) throws(StoreError) -> Snapshot {
        let oci = try decodeDocument(OCIManifest.self, value, id, what: "an OCI image manifest")
        guard oci.artifactType == MediaType.snapshotArtifact, oci.config.mediaType == MediaType.snapshotConfig else {
            throw .corrupt(file: blobPath(id), reason: "not a pfhost snapshot (artifactType \(oci.artifactType ?? "none"))")
        }
        let configBytes = try readDocument(oci.config)
        let manifest: Manifest
        let members: [String: JSONValue]
        do {
            let value = try JSONParser.parse(configBytes)
            manifest = try CanonicalJSON.decode(Manifest.self, from: value)
            members = value.objectValue ?? [:]
        } catch {
            throw .corrupt(file: blobPath(oci.config.digest), reason: "not a pfhost manifest: \(describeJSONError(error))")
        }
        try checkSizes([oci.config] + oci.layers, in: id)
        var listed: [Digest: Int64] = [:]
        for layer in oci.layers where listed[layer.digest] == nil { listed[layer.digest] = layer.size }
        for summary in manifest.layerSummaries {
            for blob in summary.blobs where listed[blob.digest] != blob.size {
                throw .corrupt(file: blobPath(id), reason: "the \(summary.kind) layer's blob \(blob.digest) (\(blob.size) bytes) is not among the OCI manifest's layers")
            }
        }
        let root = OCIDescriptor(mediaType: MediaType.ociManifest, digest: id, size: size, artifactType: oci.artifactType)
        // Each layer is a member of the config, canonically encoded.
        var layerJSON: [LayerKind: [UInt8]] = [:]
        for kind in LayerKind.allCases { layerJSON[kind] = members[kind.rawValue].map { CanonicalJSON.encode($0) } }
        return Snapshot(root: root, manifest: manifest, closure: Self.distinct([root, oci.config] + oci.layers), layerJSON: layerJSON)
    }

    /// Each digest once, first occurrence kept.
    static func distinct(_ descriptors: [OCIDescriptor]) -> [OCIDescriptor] {
        var seen = Set<Digest>()
        return descriptors.filter { seen.insert($0.digest).inserted }
    }

    /// Every blob snapshot `id` reaches (its documents and its layers' blobs), each document
    /// re-hashed. With `checkingLayers` (what `gc` marks with) each layer is checked as
    /// ``snapshot(_:)`` checks it: its config read, decoded as its kind, and every blob it names
    /// among its manifest's layers, so that gc keeps everything any layer names or refuses. Without
    /// (what `list` sums), no config is read. No descriptor may have a negative size. `cache` holds
    /// what each layer manifest reaches, so a layer shared by many snapshots is read once; keep one
    /// cache per mode.
    public func closure(of id: Digest, cache: inout [Digest: [OCIDescriptor]], checkingLayers: Bool = true) throws(StoreError) -> [OCIDescriptor] {
        try summary(of: id, cache: &cache, checkingLayers: checkingLayers).closure
    }

    /// Snapshot `id` as `list` shows it: its header and its closure as
    /// ``closure(of:cache:checkingLayers:)`` gives it, the root read once.
    public func summary(of id: Digest, cache: inout [Digest: [OCIDescriptor]], checkingLayers: Bool = true) throws(StoreError) -> SnapshotSummary {
        let bytes = try readBlob(id)
        let value = try parseDocument(bytes, id)
        guard value["mediaType"]?.stringValue == MediaType.ociIndex else {
            let snapshot = try snapshotManifest(id, value, size: Int64(bytes.count))
            let header = SnapshotHeader(id: id, agent: snapshot.manifest.agent, createdAt: snapshot.manifest.createdAt,
                                        parents: snapshot.manifest.parents, format: 1)
            return SnapshotSummary(header: header, root: snapshot.root, closure: snapshot.closure, layerManifests: [])
        }
        let index = try decodeDocument(OCIIndex.self, value, id, what: "an OCI image index")
        let root = OCIDescriptor(mediaType: MediaType.ociIndex, digest: id, size: Int64(bytes.count))
        var closure = [root]
        let entries = try layerEntries(index, id)
        let header = try indexHeader(index, id)
        for (entry, kind) in zip(entries, LayerKind.allCases) {
            if let known = cache[entry.digest] {
                closure += known
                continue
            }
            let part: [OCIDescriptor]
            if checkingLayers {
                part = try layerClosure(entry, kind: kind)
            } else {
                let manifest = try layerManifest(entry)
                part = [entry, manifest.config] + manifest.layers
            }
            cache[entry.digest] = part
            closure += part
        }
        return SnapshotSummary(header: header, root: root, closure: Self.distinct(closure), layerManifests: entries.map(\.digest))
    }

    /// The parents a snapshot index's annotations list, first parent first.
    private func parents(_ annotations: [String: String], of id: Digest) throws(StoreError) -> [Digest] {
        guard let list = annotations[AnnotationKey.parents], !list.isEmpty else { return [] }
        var parents: [Digest] = []
        for text in list.split(separator: ",", omittingEmptySubsequences: false) {
            guard let parent = try? Digest(parsing: String(text)) else {
                throw .corrupt(file: blobPath(id), reason: "\(AnnotationKey.parents) holds '\(text)', not a content id")
            }
            parents.append(parent)
        }
        return parents
    }

    /// Each layer of snapshot `id`: its JSON, canonically encoded, and the blob it is stored as when
    /// that holds these very bytes. Every document read is checked against its digest, each layer checked to be an object of
    /// its kind that parses strictly (valid UTF-8, at most 512 levels deep, no duplicate key), but
    /// not decoded as its type: a parent's layers for the plugins, without the cost of
    /// ``snapshot(_:)``. A config already in canonical form (as pfhost writes them) is recognised
    /// without being parsed (``CanonicalObject``). A layer that fails is the store's damage
    /// (`corrupt`, naming its blob), never something handed to a plugin.
    public func layers(of id: Digest) throws(StoreError) -> [LayerKind: StoredLayer] {
        let root = try parseDocument(readBlob(id), id)
        var layers: [LayerKind: StoredLayer] = [:]
        if root["mediaType"]?.stringValue == MediaType.ociIndex {
            let index = try decodeDocument(OCIIndex.self, root, id, what: "an OCI image index")
            for (entry, kind) in zip(try layerEntries(index, id), LayerKind.allCases) {
                let (descriptor, config) = try layerConfig(entry)
                if let object = CanonicalObject(config), object.string("kind") == kind.rawValue {
                    layers[kind] = StoredLayer(json: config, config: descriptor, stamp: object.value("plugin"), blob: descriptor.digest)
                } else {
                    layers[kind] = StoredLayer(json: try layerOfKind(parseDocument(config, descriptor.digest), kind, in: descriptor.digest),
                                               config: nil, stamp: nil, blob: descriptor.digest)
                }
            }
            return layers
        }
        guard let text = root["config"]?["digest"]?.stringValue, let config = try? Digest(parsing: text) else {
            throw .corrupt(file: blobPath(id), reason: "not an OCI image manifest: no config digest")
        }
        let members = try parseDocument(readBlob(config), config)
        for kind in LayerKind.allCases {
            layers[kind] = StoredLayer(json: try layerOfKind(members[kind.rawValue] ?? .null, kind, in: config), config: nil, stamp: nil, blob: config)
        }
        return layers
    }

    /// `value`'s canonical bytes when it is an object whose `kind` is `kind`; else the document is corrupt.
    private func layerOfKind(_ value: JSONValue, _ kind: LayerKind, in document: Digest) throws(StoreError) -> [UInt8] {
        guard value.objectValue != nil, value["kind"]?.stringValue == kind.rawValue else {
            throw .corrupt(file: blobPath(document), reason: "its \(kind) layer is not a JSON object of kind \"\(kind)\"")
        }
        return CanonicalJSON.encode(value)
    }
}
