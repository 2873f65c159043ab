import PFModel

/// Why the host will not use a `.so` file as a plugin. Each message names the file and the
/// exact values involved.
public enum PluginRefusal: Error, Hashable, Sendable, CustomStringConvertible {
    /// Someone other than root or the effective user could have changed the file, a directory
    /// above it or a symlink on the way (``PluginTrust``); it was not opened, so its constructors
    /// did not run.
    case untrusted(file: String, problem: PluginTrust.Problem)
    /// The file cannot be read as a 64-bit shared object (``ELFDynamicSection``); it was not loaded.
    case malformed(file: String, problem: ELFDynamicSection.Problem)
    /// A library the loader would load with it, or a directory it would look for one in, is not
    /// trusted (``PluginDependencies``); nothing was loaded.
    case untrustedDependency(file: String, problem: PluginDependencyProblem)
    /// `/proc/self/fd` is not procfs, so the checked file cannot be loaded through its descriptor;
    /// nothing was loaded.
    case noProcFileSystem(file: String, reason: String)
    case notLoadable(file: String, reason: String)
    /// Its dynamic symbol table (read before any `dlopen`) does not define `pf_plugin_entry_v1`:
    /// a library, not a plugin. In a directory such a file is skipped (``isSkipped``), never loaded.
    case noEntrySymbol(file: String)
    case entryReturnedNull(file: String)
    case abiMajorMismatch(file: String, major: UInt32, minor: UInt32)
    case abiMinorTooNew(file: String, minor: UInt32)
    case structTooSmall(file: String, size: UInt32)
    case unknownKind(file: String, kind: UInt32)
    case missingField(file: String, field: String)
    /// A string of the table has no NUL within `limit` bytes: it is not read further.
    case unterminated(file: String, field: String, limit: Int)
    /// The settings the plugin declares (ABI 1.1) cannot be used: `problem` says which and why.
    case badSettings(file: String, problem: String)
    /// A Swift plugin built with another Swift than this host's (`pf_plugin.build_identity`).
    case buildIdentityMismatch(file: String, plugin: String, host: String)
    /// `pf_plugin.id` or `pf_plugin.version` is not of its form (``PluginNaming``).
    case badNaming(file: String, field: String, value: String, problem: String)
    /// Refused by the capture process that loaded it (`--isolate`), or that process ended before
    /// it could say: `reason` as it was worded there.
    case reported(file: String, reason: String)

    /// Whether the file is simply not a plugin (a library beside the plugins, say the
    /// `libsqlite3.so` a plugin needs): a directory's listing skips it instead of refusing the set.
    public var isSkipped: Bool {
        if case .noEntrySymbol = self { return true }
        return false
    }

    /// The file refused.
    public var file: String {
        switch self {
        case .untrusted(let file, _), .malformed(let file, _), .untrustedDependency(let file, _), .noProcFileSystem(let file, _), .notLoadable(let file, _), .noEntrySymbol(let file), .entryReturnedNull(let file),
             .abiMajorMismatch(let file, _, _), .abiMinorTooNew(let file, _), .structTooSmall(let file, _),
             .unknownKind(let file, _), .missingField(let file, _), .unterminated(let file, _, _), .badNaming(let file, _, _, _), .badSettings(let file, _),
             .buildIdentityMismatch(let file, _, _), .reported(let file, _):
            file
        }
    }

    /// The reason alone, without the file.
    public var reason: String {
        let host = "\(PluginABI.major).\(PluginABI.minor)"
        switch self {
        case .untrusted(_, let problem):
            // A file that changed under the check was opened (that is how it was found out), never loaded.
            if case .changed = problem { return "not loaded: \(problem)" }
            return "untrusted, never opened: \(problem)"
        case .malformed(_, let problem):
            return "cannot be loaded: \(problem)"
        case .untrustedDependency(_, let problem):
            return "not loaded, a library it would load is untrusted: \(problem)"
        case .noProcFileSystem(_, let reason):
            return "not loaded: \(reason); pfhost loads each checked plugin through /proc/self/fd so that exactly the checked file is loaded: mount /proc (mount -t proc proc /proc), or pass --allow-insecure-plugins (development only)"
        case .notLoadable(_, let reason):
            return "cannot be loaded: \(reason)"
        case .noEntrySymbol:
            return "does not export \(PluginABI.entrySymbol) (build it against plugin-sdk/include/pf_plugin.h)"
        case .entryReturnedNull:
            return "\(PluginABI.entrySymbol) returned NULL"
        case .abiMajorMismatch(_, let major, let minor):
            return "built for plugin ABI \(major).\(minor), this host implements ABI \(host) (the major version must match)"
        case .abiMinorTooNew(_, let minor):
            return "built for plugin ABI \(PluginABI.major).\(minor), newer than this host's ABI \(host) (upgrade pfhost)"
        case .structTooSmall(_, let size):
            return "pf_plugin.struct_size is \(size) bytes, smaller than ABI \(PluginABI.major).0's \(PluginABI.pluginTableSize10)"
        case .unknownKind(_, let kind):
            return "declares unknown layer kind \(kind) (known: 1 model, 2 cache, 3 world, 4 effects, 5 trace)"
        case .missingField(_, let field):
            return "pf_plugin.\(field) is NULL or empty"
        case .unterminated(_, let field, let limit):
            return "pf_plugin.\(field) has no terminating NUL within \(limit) bytes (a string of the table is at most \(limit - 1) bytes)"
        case .badNaming(_, let field, let value, let problem):
            return "pf_plugin.\(field) \"\(DisplayText.escaped(value))\" \(problem)"
        case .badSettings(_, let problem):
            return "declares settings pfhost cannot use: \(problem)"
        case .buildIdentityMismatch(_, let plugin, let host):
            return "built with \(DisplayText.escaped(plugin)), but this pfhost was built with \(host): Swift has no stable ABI on Linux and a Swift plugin runs on the host's Swift runtime, so rebuild the plugin with the \(host) toolchain (or use a pfhost built with \(DisplayText.escaped(plugin)))"
        case .reported(_, let reason):
            return reason
        }
    }

    public var description: String { "\(file): \(reason)" }
}
