import CPFPluginABI
import PFModel

/// A setting a plugin declares in its table (`pf_plugin.settings`, ABI 1.1): the host checks
/// configuration against it before the capture runs.
///
/// ```swift
/// DeclaredSetting(key: "root", type: .path, required: true, defaultValue: nil, help: "the agent's working directory")
/// ```
public struct DeclaredSetting: Hashable, Sendable {
    /// `PF_SETTING_*`: what a value may be.
    public enum ValueType: String, Hashable, Sendable, CaseIterable {
        case string, bool, int, path, list

        /// The type of a `PF_SETTING_*` value, or nil.
        init?(abiValue: UInt32) {
            switch abiValue {
            case UInt32(PF_SETTING_STRING): self = .string
            case UInt32(PF_SETTING_BOOL): self = .bool
            case UInt32(PF_SETTING_INT): self = .int
            case UInt32(PF_SETTING_PATH): self = .path
            case UInt32(PF_SETTING_LIST): self = .list
            default: return nil
            }
        }

        /// Why `value` is not of this type, or nil.
        func problem(_ value: String) -> String? {
            switch self {
            case .string, .list: nil
            case .bool: value == "true" || value == "false" ? nil : "must be true or false"
            case .int: Int64(value) == nil ? "must be a decimal integer (within 64 bits)" : nil
            case .path: value.isEmpty ? "must be a path, not empty" : nil
            }
        }
    }

    /// The key after the kind (`root` for `world.root`).
    public let key: String
    /// What its value may be.
    public let type: ValueType
    /// Whether a capture needs it.
    public let required: Bool
    /// The value the plugin gets when it is unset.
    public let defaultValue: String?
    /// One line for humans.
    public let help: String

    public init(key: String, type: ValueType, required: Bool, defaultValue: String?, help: String) {
        self.key = key
        self.type = type
        self.required = required
        self.defaultValue = defaultValue
        self.help = help
    }

    /// The setting as `pfhost plugins --json` and the capture process's messages carry it.
    public var json: JSONValue {
        .object(["key": .string(key), "type": .string(type.rawValue), "required": .bool(required),
                 "default": defaultValue.map { .string($0) } ?? .null, "help": .string(help)])
    }

    /// The setting in `json` (as ``json`` writes it), or nil.
    init?(json: JSONValue) {
        guard let key = json["key"]?.stringValue, let type = json["type"]?.stringValue.flatMap(ValueType.init(rawValue:)),
              case .bool(let required)? = json["required"], let help = json["help"]?.stringValue else { return nil }
        self.init(key: key, type: type, required: required, defaultValue: json["default"]?.stringValue, help: help)
    }

    /// Why `key` cannot be a setting's key, or nil: 1 to 64 of `[a-z0-9_]`, starting with a letter.
    static func keyProblem(_ key: String) -> String? {
        let bytes = Array(key.utf8)
        guard (1...64).contains(bytes.count), (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[0]),
              bytes.allSatisfy({ (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "_") })
        else { return "is not 1 to 64 of a-z, 0-9 and _ starting with a letter" }
        return nil
    }
}
