/// What a Swift module was compiled with, as the plugin ABI's `pf_plugin.build_identity` spells it.
///
/// Swift has no stable ABI on Linux: a Swift plugin runs on the host process's `libswiftCore`, so
/// host and plugin must come from the same Swift. The host compares its own ``swiftRuntime`` with a
/// plugin's `build_identity` and refuses a mismatch, naming both.
///
/// ```swift
/// BuildIdentity.swiftRuntime   // "swift-6.3.1"
/// ```
public enum BuildIdentity {
    /// `swift-` and the version of the compiler (and so of the runtime it links against) that
    /// compiled this module.
    public static let swiftRuntime: String = {
        #if compiler(>=6.5)
        return "swift-6.5 or newer (unknown to this build of pfhost)"
        #elseif compiler(>=6.4)
        return "swift-6.4"
        #elseif compiler(>=6.3.2)
        return "swift-6.3.2"
        #elseif compiler(>=6.3.1)
        return "swift-6.3.1"
        #elseif compiler(>=6.3)
        return "swift-6.3"
        #elseif compiler(>=6.2.1)
        return "swift-6.2.1"
        #elseif compiler(>=6.2)
        return "swift-6.2"
        #elseif compiler(>=6.1.2)
        return "swift-6.1.2"
        #elseif compiler(>=6.1.1)
        return "swift-6.1.1"
        #elseif compiler(>=6.1)
        return "swift-6.1"
        #elseif compiler(>=6.0.3)
        return "swift-6.0.3"
        #elseif compiler(>=6.0.2)
        return "swift-6.0.2"
        #elseif compiler(>=6.0.1)
        return "swift-6.0.1"
        #else
        return "swift-6.0"
        #endif
    }()
}
