/// The fields every layer has, whatever its kind.
public struct LayerSummary: Hashable, Sendable {
    /// The layer's kind.
    public var kind: LayerKind
    /// The plugin that captured it.
    public var plugin: PluginRef?
    /// Every blob it needs.
    public var blobs: [Descriptor]
    /// Its annotations.
    public var annotations: [String: String]

    /// The sum of its blobs' sizes, saturated at the ends of `Int64`: a manifest read from a store
    /// may say anything, and adding what it says must not trap.
    public var totalBytes: Int64 {
        var total: Int64 = 0
        for blob in blobs {
            let (sum, overflow) = total.addingReportingOverflow(blob.size)
            total = overflow ? (blob.size < 0 ? Int64.min : Int64.max) : sum
        }
        return total
    }
}
