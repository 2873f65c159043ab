import CPFPluginABI

/// A setting a plugin declares (ABI 1.1 `pf_setting`), for ``PluginEntry/makeTable(kind:id:version:description:settings:capture:restore:)``.
///
/// The host then refuses unknown keys and values of the wrong type before the capture runs, gives
/// `host.config` the default of an unset setting, and resolves `.path` values from a config file
/// against its directory.
///
/// ```swift
/// PluginSetting("path", .path, required: true, help: "the conversation file, JSON Lines")
/// PluginSetting("env", .bool, default: "true", help: "capture the environment")
/// ```
public struct PluginSetting: Sendable {
    /// `PF_SETTING_*`.
    public enum ValueType: UInt32, Sendable {
        case string = 1, bool = 2, int = 3, path = 4, list = 5
    }

    let key: StaticString
    let type: ValueType
    let required: Bool
    let defaultValue: StaticString?
    let help: StaticString

    /// A setting `key` of `type`; `default` is what the plugin gets when it is unset.
    public init(_ key: StaticString, _ type: ValueType, required: Bool = false, default defaultValue: StaticString? = nil, help: StaticString) {
        self.key = key
        self.type = type
        self.required = required
        self.defaultValue = defaultValue
        self.help = help
    }

    /// The C entry; its strings are the static strings themselves.
    var entry: pf_setting {
        pf_setting(key: Self.cString(key), type: type.rawValue, required: required ? 1 : 0,
                   default_value: defaultValue.map(Self.cString), help: Self.cString(help))
    }

    static func cString(_ text: StaticString) -> UnsafePointer<CChar> {
        UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
    }
}
