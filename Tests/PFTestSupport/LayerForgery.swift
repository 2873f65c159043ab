import Foundation
import PFModel
import PFStore

/// Writes a copy of a format-2 snapshot with one layer's documents changed, as another tool (or an
/// attacker) could: every document re-hashed and well formed, only that layer's JSON or list different.
public enum LayerForgery {
    /// The root of a copy of snapshot `id` whose `kind` layer config holds `config` (the same when
    /// nil) and whose layer manifest lists `extra` blobs besides the layer's; written to the store
    /// (flushed), not added to its history.
    public static func replacingLayer(_ kind: LayerKind, of id: Digest, with config: [UInt8]? = nil, listingAlso extra: [OCIDescriptor] = [],
                                      in store: SnapshotStore) throws -> (root: OCIDescriptor, config: BlobRef, layerManifest: BlobRef) {
        let position = LayerKind.allCases.firstIndex(of: kind)!
        let index = try CanonicalJSON.decode(OCIIndex.self, from: store.readBlob(id))
        let layer = try CanonicalJSON.decode(OCIManifest.self, from: store.readBlob(index.manifests[position].digest))
        let stored = try store.putBlob(config ?? store.readBlob(layer.config.digest))
        let forged = try store.putBlob(CanonicalJSON.encode(OCIManifest(
            artifactType: layer.artifactType, config: OCIDescriptor(mediaType: MediaType.layerConfig, digest: stored.digest, size: stored.size),
            layers: layer.layers + extra, annotations: nil)))
        var manifests = index.manifests
        manifests[position] = OCIDescriptor(mediaType: MediaType.ociManifest, digest: forged.digest, size: forged.size,
                                            annotations: [AnnotationKey.layerKinds: kind.rawValue])
        let root = try store.putBlob(CanonicalJSON.encode(OCIIndex(manifests: manifests, annotations: index.annotations)))
        try store.flush()
        return (OCIDescriptor(mediaType: MediaType.ociIndex, digest: root.digest, size: root.size), stored, forged)
    }

    /// Points tag `name` at `root` by rewriting the store's `index.json` as another tool could, without
    /// reading the snapshot (``SnapshotStore/adoptSnapshot(root:tag:)`` refuses a damaged one).
    public static func tag(_ root: OCIDescriptor, as name: String, inStoreAt path: String) throws {
        let indexPath = path + "/index.json"
        guard case .object(var index) = try JSONParser.parse(Array(try String(contentsOfFile: indexPath, encoding: .utf8).utf8)),
              case .array(var manifests)? = index["manifests"] else { throw CocoaError(.fileReadCorruptFile) }
        manifests.append(.object([
            "annotations": .object(["org.opencontainers.image.created": .string("2026-01-01T00:00:00Z"),
                                    "org.opencontainers.image.ref.name": .string(name)]),
            "digest": .string(root.digest.description), "mediaType": .string(root.mediaType), "size": .int(root.size),
        ]))
        index["manifests"] = .array(manifests)
        try Data(CanonicalJSON.encode(.object(index))).write(to: URL(fileURLWithPath: indexPath))
    }

    /// A copy of snapshot `id` whose `kind` layer config is its own JSON object changed by `edit`
    /// (canonically encoded), tagged `tag` as another tool could (``tag(_:as:inStoreAt:)``).
    /// `listingAlso` are blobs the layer manifest lists besides the original layer's (a blob the edit
    /// put in `blobs`, so that the snapshot is whole).
    public static func editingLayer(_ kind: LayerKind, of id: Digest, in store: SnapshotStore, tag: String, listingAlso extra: [OCIDescriptor] = [],
                                    _ edit: (inout [String: JSONValue]) -> Void) throws -> (root: OCIDescriptor, config: BlobRef, layerManifest: BlobRef) {
        guard case .object(var members) = try JSONParser.parse(store.snapshot(id).layerJSON[kind]!) else { throw CocoaError(.fileReadCorruptFile) }
        edit(&members)
        let forged = try replacingLayer(kind, of: id, with: CanonicalJSON.encode(JSONValue.object(members)), listingAlso: extra, in: store)
        try self.tag(forged.root, as: tag, inStoreAt: store.path)
        return forged
    }
}
