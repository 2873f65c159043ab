import CPFPluginABI

/// A setting the plugin reads (`pf_setting`): the host checks configuration against it before the
/// capture runs (unknown keys and wrong types are refused), gives an unset setting its default, and
/// resolves a `.path` value from a config file against the file's directory.
///
/// ```swift
/// SettingDeclaration("path", .path, required: true, help: "the conversation, JSON Lines")
/// ```
public struct SettingDeclaration: Sendable {
    /// `PF_SETTING_*`.
    public enum ValueType: UInt32, Sendable {
        case string = 1, bool = 2, int = 3, path = 4, list = 5
    }

    let key: StaticString
    let type: ValueType
    let required: Bool
    let defaultValue: StaticString?
    let help: StaticString

    public init(_ key: StaticString, _ type: ValueType, required: Bool = false, default defaultValue: StaticString? = nil,
                help: StaticString) {
        self.key = key
        self.type = type
        self.required = required
        self.defaultValue = defaultValue
        self.help = help
    }

    var entry: pf_setting {
        pf_setting(key: Self.cString(key), type: type.rawValue, required: required ? 1 : 0,
                   default_value: defaultValue.map(Self.cString), help: Self.cString(help))
    }

    static func cString(_ text: StaticString) -> UnsafePointer<CChar> {
        UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
    }
}
