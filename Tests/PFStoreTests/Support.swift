import Foundation
@_exported import PFTestSupport
import PFModel
@testable import PFStore

/// Builds snapshots whose every blob is really in the store.
enum SnapshotFactory {
    /// Stores one blob per layer (contents derived from `seed`) and returns a manifest using them.
    static func manifest(in store: SnapshotStore, seed: String, parents: [Digest] = [],
                         createdAt: String = "2026-11-27T00:00:00Z", extraBlobs: Int = 0) throws -> Manifest {
        func blob(_ layer: String) throws -> Descriptor {
            let stored = try store.putBlob(Array("\(layer) of \(seed)".utf8))
            return Descriptor(mediaType: "application/octet-stream", digest: stored.digest, size: stored.size)
        }
        let plugin = { (kind: String) in PluginRef(id: "org.test.\(kind)", version: "1.0.0") }
        let weights = try blob("weights")
        let pack = try blob("pack")
        let index = try blob("index")
        let tree = try blob("tree")
        let ledger = try blob("ledger")
        let trace = try blob("trace")
        let extras = try (0..<extraBlobs).map { try blob("extra \($0)") }
        return Manifest(
            agent: Agent(kind: "test", version: "1", fingerprint: seed),
            model: ModelLayer(plugin: plugin("model"), blobs: [weights], content: ModelContent(
                name: "m", format: "safetensors",
                files: [ModelFile(path: "m.safetensors", digest: weights.digest, size: weights.size)])),
            cache: CacheLayer(plugin: plugin("cache"), blobs: [index, pack], content: CacheContent(
                modelFingerprint: "m", dtype: "f16", tokensPerPage: 16, numLayers: 1, numHeads: 1, headDim: 8,
                pageBytes: 512, pageCount: 1, tokenCount: 16, sequences: [], index: index.digest, packs: [CachePack(digest: pack.digest, lastKey: String(repeating: "0", count: 64), pageCount: 1)])),
            world: WorldLayer(plugin: plugin("world"), blobs: [tree] + extras, content: WorldContent(
                root: "w", tree: WorldTree(index: tree.digest, entryCount: 1, totalBytes: 1))),
            effects: EffectsLayer(plugin: plugin("effects"), blobs: [ledger], content: EffectsContent(
                ledger: ledger.digest, entryCount: 0, head: nil, pendingCount: 0)),
            trace: TraceLayer(plugin: plugin("trace"), blobs: [trace], content: TraceContent(
                messages: trace.digest, messageCount: 0, lastMessageId: nil)),
            createdAt: createdAt, parents: parents)
    }
}

extension FileManager {
    func bytes(_ path: String) -> [UInt8] { [UInt8](contents(atPath: path) ?? Data()) }
}
