@testable import PFModel

/// A manifest with every layer filled, for round-trip and schema tests.
enum Fixtures {
    static func digest(_ text: String) -> Digest { Digest.of(Array(text.utf8)) }

    static func blob(_ text: String, _ mediaType: String = "application/octet-stream") -> Descriptor {
        Descriptor(mediaType: mediaType, digest: digest(text), size: Int64(text.utf8.count))
    }

    static var manifest: Manifest {
        let plugin = { (name: String) in PluginRef(id: "org.example.\(name)", version: "1.0.0") }
        let weights = blob("weights")
        let model = ModelLayer(
            plugin: plugin("model"), blobs: [weights, blob("adapter")], annotations: ["note": "tiny"],
            content: ModelContent(
                name: "tiny", format: "safetensors",
                files: [ModelFile(path: "model.safetensors", digest: weights.digest, size: weights.size, tensorCount: 4, dtypes: ["F16"])],
                adapters: [ModelAdapter(name: "lora", baseModel: "tiny", type: "LORA",
                                        files: [ModelFile(path: "lora/adapter.safetensors", digest: digest("adapter"), size: 7)])]))
        let cache = CacheLayer(
            plugin: plugin("cache"), blobs: [blob("index"), blob("pack")],
            content: CacheContent(
                modelFingerprint: "tiny@1", dtype: "f16", tokensPerPage: 16, numLayers: 2, numHeads: 2, headDim: 8,
                pageBytes: 2048, pageCount: 3, tokenCount: 40,
                sequences: [CacheSequence(id: "s1", tokenCount: 40, pageCount: 3)],
                index: digest("index"), packs: [CachePack(digest: digest("pack"), lastKey: digest("key").hex, pageCount: 3)]))
        let world = WorldLayer(
            plugin: plugin("world"), blobs: [blob("tree"), blob("dom")],
            content: WorldContent(
                root: "workspace", tree: WorldTree(index: digest("tree"), entryCount: 3, totalBytes: 100),
                env: ["HOME": "/root", "API_KEY": "<redacted>"],
                processes: [WorldProcess(pid: 42, ppid: 1, cmdline: ["python3", "agent.py"], cwd: "/w", exe: "/usr/bin/python3", state: "S")],
                dom: WorldDOM(path: "page.html", digest: digest("dom"), size: 3)))
        let effects = EffectsLayer(
            plugin: plugin("effects"), blobs: [blob("ledger")],
            content: EffectsContent(ledger: digest("ledger"), entryCount: 2, head: digest("line").hex, pendingCount: 1))
        let trace = TraceLayer(
            plugin: plugin("trace"), blobs: [blob("trace")],
            content: TraceContent(messages: digest("trace"), messageCount: 5, lastMessageId: "m5"))
        return Manifest(
            agent: Agent(kind: "coder", version: "0.1.0", fingerprint: "fp"),
            model: model, cache: cache, world: world, effects: effects, trace: trace,
            createdAt: "2026-11-27T20:25:44Z", parents: [digest("parent")])
    }
}
