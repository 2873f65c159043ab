import PFPluginSDK

/// A setting a plugin declares (ABI 1.1 `pf_setting`): the SDK kit's ``SettingDeclaration``, for
/// ``PluginEntry/makeTable(_:description:settings:capture:restore:)``.
///
/// ```swift
/// PluginSetting("path", .path, required: true, help: "the conversation file, JSON Lines")
/// ```
public typealias PluginSetting = SettingDeclaration
