import PFStore

extension SnapshotInvocation {
    /// The invocation a plain `pfhost snapshot` command line asks for, read without ArgumentParser;
    /// nil for any other command line, which ArgumentParser then parses (and explains, when wrong).
    ///
    /// ArgumentParser's parse costs about 4 ms of reflection and first-use type metadata on every
    /// run, a sixth of a warm snapshot, and an agent snapshotted after every step runs this command
    /// line thousands of times (docs/performance.md, "Process start"). What is read here is a
    /// strict subset of what `SnapshotCommand` accepts, read to the same values (a test compares
    /// the two on many generated command lines):
    /// - `--name value` or `--name=value` for each option, with a value that is not empty and does
    ///   not start with `-`; `--set` and `--parent` may repeat, no other option may;
    /// - the flags by their names (`-v` and `-q` alone, never combined), each at most once;
    /// - a `--durability` ArgumentParser would take, a `--timeout` `validate()` would take, and not
    ///   both `--progress` and `--quiet`.
    ///
    /// Anything else (help, a positional argument, `--`, an unknown or repeated option, a value
    /// ArgumentParser would refuse) returns nil.
    ///
    /// - Parameter arguments: the command line after `snapshot`.
    init?(commandLine arguments: ArraySlice<String>) {
        self.init()
        var seen = Set<String>()
        var rest = arguments
        while let token = rest.popFirst() {
            guard token.hasPrefix("-") else { return nil }
            var name = token
            var attached: String?
            if token.hasPrefix("--"), let equals = token.firstIndex(of: "=") {
                name = String(token[..<equals])
                attached = String(token[token.index(after: equals)...])
            }
            if let flag = Self.flagName(name) {
                guard attached == nil, seen.insert(flag).inserted else { return nil }
                switch flag {
                case "allow-insecure-plugins": allowInsecurePlugins = true
                case "isolate": isolate = true
                case "json": json = true
                case "verbose": verbose = true
                case "progress": progress = true
                case "quiet": quiet = true
                default: return nil
                }
                continue
            }
            guard let value = attached ?? rest.popFirst(), !value.isEmpty, !value.hasPrefix("-") else { return nil }
            guard name == "--set" || name == "--parent" || seen.insert(name).inserted else { return nil }
            switch name {
            case "--plugins": plugins = value
            case "--store": store = value
            case "--config": config = value
            case "--set": settings.append(value)
            case "--parent": parents.append(value)
            case "--tag": tag = value
            case "--agent-kind": agentKind = value
            case "--agent-version": agentVersion = value
            case "--agent-fingerprint": agentFingerprint = value
            case "--durability":
                guard let durability = Durability(rawValue: value) else { return nil }
                self.durability = durability
            case "--timeout":
                guard let timeout = Int(value), timeout > 0 else { return nil }
                self.timeout = timeout
            default:
                return nil
            }
        }
        if progress && quiet { return nil }
    }

    /// The flag `name` spells (its long name without dashes), or nil.
    private static func flagName(_ name: String) -> String? {
        switch name {
        case "--allow-insecure-plugins": "allow-insecure-plugins"
        case "--isolate": "isolate"
        case "--json": "json"
        case "-v", "--verbose": "verbose"
        case "--progress": "progress"
        case "-q", "--quiet": "quiet"
        default: nil
        }
    }
}
