import Foundation
import PFModel
import PFStore

/// Makes format-1 stores (`docs/store-format.md`, "A snapshot (format 1)") for the migration
/// tests: the layout pfhost wrote before store format 2, written here the way that code wrote it.
public enum FormatOneStore {
    /// Rewrites the store at `path` as format 1: each snapshot of its history is written again as
    /// a snapshot manifest (its layer blobs are already there), and `index.json` lists them all,
    /// tagged as they were, without the journal. Returns the new content ids, oldest first.
    @discardableResult
    public static func downgrade(_ path: String) throws -> [Digest] {
        let store = try SnapshotStore(opening: path)
        let history = try store.history()
        let tags = try store.tags()
        var renamed: [Digest: Digest] = [:]
        var entries: [OCIDescriptor] = []
        for entry in history {
            var manifest = try store.snapshot(entry.id).manifest
            manifest.parents = manifest.parents.map { renamed[$0] ?? $0 }
            let root = try writeSnapshot(manifest, store: path)
            renamed[entry.id] = root.digest
            let names = tags[entry.id] ?? []
            for tag in names.isEmpty ? [nil] : names.map(Optional.some) {
                var listed = root
                listed.annotations = [AnnotationKey.created: manifest.createdAt]
                if let tag { listed.annotations?[AnnotationKey.refName] = tag }
                entries.append(listed)
            }
        }
        try Data(CanonicalJSON.encode(OCIIndex(manifests: entries))).write(to: URL(fileURLWithPath: path + "/index.json"))
        try? FileManager.default.removeItem(atPath: path + "/ingest/journal.v2")
        return history.map { renamed[$0.id]! }
    }

    /// Writes `manifest` as a format-1 snapshot manifest (its config and OCI manifest blobs) and
    /// returns the root's descriptor, with pfhost's artifact type.
    public static func writeSnapshot(_ manifest: Manifest, store path: String) throws -> OCIDescriptor {
        var layers: [OCIDescriptor] = []
        var position: [Digest: Int] = [:]
        for summary in manifest.layerSummaries {
            for blob in summary.blobs {
                if let at = position[blob.digest] {
                    let kinds = layers[at].annotations![AnnotationKey.layerKinds]!
                    if !kinds.split(separator: ",").contains(Substring(summary.kind.rawValue)) {
                        layers[at].annotations![AnnotationKey.layerKinds] = kinds + "," + summary.kind.rawValue
                    }
                    continue
                }
                position[blob.digest] = layers.count
                layers.append(OCIDescriptor(mediaType: blob.mediaType, digest: blob.digest, size: blob.size,
                                            annotations: [AnnotationKey.layerKinds: summary.kind.rawValue]))
            }
        }
        if layers.isEmpty {
            let empty = try writeBlob(Array("{}".utf8), store: path)
            layers.append(OCIDescriptor(mediaType: MediaType.ociEmpty, digest: empty.digest, size: empty.size))
        }
        let config = try writeBlob(CanonicalJSON.encode(manifest), store: path)
        let oci = OCIManifest(artifactType: MediaType.snapshotArtifact,
                              config: OCIDescriptor(mediaType: MediaType.snapshotConfig, digest: config.digest, size: config.size),
                              layers: layers, annotations: [AnnotationKey.created: manifest.createdAt])
        let root = try writeBlob(CanonicalJSON.encode(oci), store: path)
        return OCIDescriptor(mediaType: MediaType.ociManifest, digest: root.digest, size: root.size, artifactType: MediaType.snapshotArtifact)
    }

    private static func writeBlob(_ bytes: [UInt8], store path: String) throws -> (digest: Digest, size: Int64) {
        let digest = Digest.of(bytes)
        let file = path + "/blobs/sha256/" + digest.hex
        if !FileManager.default.fileExists(atPath: file) { try Data(bytes).write(to: URL(fileURLWithPath: file)) }
        return (digest, Int64(bytes.count))
    }
}
