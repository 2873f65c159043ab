/// Why the libraries the dynamic loader would load along with a plugin may not be trusted
/// (``PluginDependencies``). Each message names the object that asks for the library or
/// directory, the entry as written in it, the path at fault and what to do.
public enum PluginDependencyProblem: Error, Hashable, Sendable, CustomStringConvertible {
    /// A directory the loader would search for `object`'s libraries (`tag` is `RPATH` or
    /// `RUNPATH`, `entry` the entry as written, before `$ORIGIN` is expanded), or one beneath it
    /// where the loader looks for hardware-specific variants, is not trusted.
    case untrustedDirectory(object: String, tag: String, entry: String, problem: PluginTrust.Problem)
    /// An entry pfhost cannot check: it uses `$LIB` or `$PLATFORM`, or it is relative (searched
    /// from whatever the current directory is). `tag` is `RPATH`, `RUNPATH` or `NEEDED`.
    case uncheckableEntry(object: String, tag: String, entry: String, reason: String)
    /// A library (`name`, as `object` asks for it) the loader could load is not trusted.
    case untrustedLibrary(object: String, name: String, problem: PluginTrust.Problem)
    /// A library the loader could load, at `path`, cannot be read as a shared object, so what it
    /// would load in turn cannot be checked.
    case malformedLibrary(object: String, name: String, path: String, problem: ELFDynamicSection.Problem)
    /// More libraries, or more directories beneath a library directory, than pfhost checks.
    case tooMany(object: String, what: String)

    public var description: String {
        switch self {
        case .untrustedDirectory(let object, let tag, let entry, let problem):
            return "\(object) has \(tag) \(entry): \(problem)"
        case .uncheckableEntry(let object, let tag, let entry, let reason):
            return "\(object) has \(tag) \(entry), which \(reason)"
        case .untrustedLibrary(let object, let name, let problem):
            return "\(object) needs \(name): \(problem)"
        case .malformedLibrary(let object, let name, let path, let problem):
            return "\(object) needs \(name), and \(path) is \(problem)"
        case .tooMany(let object, let what):
            return "\(object): \(what)"
        }
    }
}
