import PFModel

/// A finished restore: what was restored where, and what each plugin said.
public struct RestoreResult: Sendable {
    /// The snapshot's content id.
    public let id: Digest
    /// The agent directory (absolute).
    public let target: String
    /// The config file written in it, `TARGET/pfhost.json`.
    public let configurationFile: String
    /// The restored layers, in manifest order.
    public let layers: [LayerReport]
    /// The layers left out (`--only`), in manifest order.
    public let skipped: [LayerKind]

    /// One layer's restore.
    public struct LayerReport: Sendable {
        /// The layer.
        public let kind: LayerKind
        /// The plugin that restored it.
        public let plugin: PluginRef
        /// The plugin's `.so` file.
        public let file: String
        /// Its section of `pfhost.json`.
        public let configuration: [String: String]
        /// What the plugin reported for the user, in order (`pending_effects`, `not_recreated`, …).
        public let reports: [Report]
        /// Blobs the plugin opened (each checked against its digest), and their bytes.
        public let blobCount: Int
        public let bytes: Int64
        /// How long its restore took.
        public let milliseconds: Int64
    }

    /// One fact a plugin reported.
    public struct Report: Sendable, Hashable {
        /// What it is about, e.g. `pending_effects`.
        public let key: String
        /// The fact, e.g. `fx-2,fx-7`.
        public let value: String
    }
}
