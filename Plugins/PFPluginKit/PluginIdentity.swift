import PFModel

/// Who a plugin is: its layer kind, reverse-DNS id and version, as its table gives them to the
/// host and as the host stamps them on every layer the plugin captures (`"plugin"`).
///
/// A capture trusts what its parent layer says (stat records, keys, a ledger's head) only when
/// that layer carries this identity's stamp: a layer another plugin, or another version of this
/// one, captured may have been made from other input by other rules.
public struct PluginIdentity: Sendable {
    /// The layer this plugin captures.
    public let kind: LayerKind
    /// The plugin's reverse-DNS id, e.g. `dev.pfhost.trace.chat`.
    public let id: StaticString
    /// The plugin's version; a new version trusts nothing an older one recorded.
    public let version: StaticString

    /// An identity; `id` and `version` live in static storage, as the C table needs them.
    public init(kind: LayerKind, id: StaticString, version: StaticString) {
        self.kind = kind
        self.id = id
        self.version = version
    }

    /// The stamp the host puts on this plugin's layers.
    public var stamp: PluginRef { PluginRef(id: id.description, version: version.description) }
}
