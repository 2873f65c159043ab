import PFModel
import PFStore

/// Writes a copy of a format-2 snapshot whose one layer config is other bytes, as another tool (or an
/// attacker) could: every document re-hashed and well formed, only the layer's JSON different.
public enum LayerForgery {
    /// The root of a copy of snapshot `id` whose `kind` layer config holds `config`; written to the
    /// store (flushed), not added to its history.
    public static func replacingLayer(_ kind: LayerKind, of id: Digest, with config: [UInt8], in store: SnapshotStore) throws -> (root: OCIDescriptor, config: BlobRef, layerManifest: BlobRef) {
        let position = LayerKind.allCases.firstIndex(of: kind)!
        let index = try CanonicalJSON.decode(OCIIndex.self, from: store.readBlob(id))
        let layer = try CanonicalJSON.decode(OCIManifest.self, from: store.readBlob(index.manifests[position].digest))
        let stored = try store.putBlob(config)
        let forged = try store.putBlob(CanonicalJSON.encode(OCIManifest(
            artifactType: layer.artifactType, config: OCIDescriptor(mediaType: MediaType.layerConfig, digest: stored.digest, size: stored.size),
            layers: layer.layers, annotations: nil)))
        var manifests = index.manifests
        manifests[position] = OCIDescriptor(mediaType: MediaType.ociManifest, digest: forged.digest, size: forged.size,
                                            annotations: [AnnotationKey.layerKinds: kind.rawValue])
        let root = try store.putBlob(CanonicalJSON.encode(OCIIndex(manifests: manifests, annotations: index.annotations)))
        try store.flush()
        return (OCIDescriptor(mediaType: MediaType.ociIndex, digest: root.digest, size: root.size), stored, forged)
    }
}
