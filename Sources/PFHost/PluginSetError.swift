import PFModel

/// Why a plugin directory cannot be used for a snapshot.
public enum PluginSetError: Error, Sendable, CustomStringConvertible {
    /// The directory cannot be listed.
    case unreadableDirectory(String, reason: String)
    /// Someone other than root or the effective user could change the directory or one above it
    /// (``PluginTrust``), so none of the `.so` files in it (`files`, their names) was opened.
    case untrustedDirectory(String, problem: PluginTrust.Problem, files: [String])
    /// One or more files were refused.
    case refused([PluginRefusal])
    /// Two plugins capture the same layer.
    case duplicateKind(LayerKind, first: String, second: String)
    /// No plugin captures these layers.
    case missingKinds([LayerKind], directory: String)

    /// One line per problem: a file name holding a newline or an escape sequence is escaped, so it
    /// can neither forge an error line nor reach the terminal raw.
    public var description: String {
        switch self {
        case .refused(let refusals):
            return refusals.map { DisplayText.escaped($0.description) }.joined(separator: "\n")
        default:
            return DisplayText.escaped(text)
        }
    }

    private var text: String {
        switch self {
        case .unreadableDirectory(let directory, let reason):
            return "cannot read the plugin directory \(directory): \(reason) (pass --plugins DIR or set PFHOST_PLUGINS)"
        case .untrustedDirectory(let directory, let problem, let files):
            let skipped = files.isEmpty ? "" : " (not loaded: \(files.joined(separator: ", ")))"
            return "refusing the plugin directory \(directory)\(skipped): \(problem)"
        case .refused(let refusals):
            return refusals.map(\.description).joined(separator: "\n")
        case .duplicateKind(let kind, let first, let second):
            return "two plugins capture the \(kind) layer: \(first) and \(second); keep one of them in the directory"
        case .missingKinds(let kinds, let directory):
            let names = kinds.map(\.rawValue).joined(separator: ", ")
            return "no plugin in \(directory) captures the \(names) layer\(kinds.count > 1 ? "s" : ""); every snapshot needs all five"
        }
    }
}
