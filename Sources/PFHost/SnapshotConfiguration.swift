import PFModel
import PFSystem
import PFStore
#if canImport(Glibc)
import Glibc
#endif

/// What the plugins are told: the agent's identity and one key/value section per layer kind.
///
/// A config file is JSON with an optional `agent` section (`kind`, `version`, `fingerprint`)
/// and one optional section per layer kind, each an object of strings (numbers and booleans
/// are turned into their text):
///
/// ```json
/// {"agent": {"kind": "coder", "version": "1.4.0", "fingerprint": "prod-7"},
///  "model": {"path": "model"}, "world": {"root": "workspace", "exclude": "*.tmp"}}
/// ```
///
/// Relative paths in a file are resolved against the file's own directory, so the file works
/// from any working directory. For a plugin that declares its settings (ABI 1.1), a value is a path
/// when the plugin declares it `path` (``section(for:plugin:)``); for one that declares none, when
/// its key is `path`, `root` or `dom`, or ends in `_path`, `_dir` or `_file` (the name rule, kept for
/// ABI 1.0 plugins). `--set KIND.KEY=VALUE` overrides the file. A section member may be a string, an
/// integer, a boolean, or an array of strings (a list: joined with commas).
public struct SnapshotConfiguration: Sendable, Equatable {
    /// The agent section.
    public var agent: [String: String] = [:]
    /// The section of each layer kind, relative paths resolved by the name rule.
    public var layers: [LayerKind: [String: String]] = [:]
    /// The values the config file gave, as written (before any resolving), less those `--set` replaced.
    var fileValues: [LayerKind: [String: String]] = [:]
    /// The config file, and the directory its relative paths are resolved against.
    var file: (name: String, directory: String)?

    /// An empty configuration.
    public init() {}

    /// Reads a config file.
    ///
    /// - Throws: ``ConfigurationError`` naming the file and what is wrong in it.
    public static func load(file: String) throws(ConfigurationError) -> SnapshotConfiguration {
        let bytes: [UInt8]
        do {
            bytes = try readAll(file)
        } catch {
            throw ConfigurationError(file: file, message: error.reason)
        }
        let json: JSONValue
        do { json = try JSONParser.parse(bytes) } catch {
            throw ConfigurationError(file: file, message: "\(error)")
        }
        guard let sections = json.objectValue else { throw ConfigurationError(file: file, message: "the top level is not a JSON object") }
        let directory = directoryOf(file)
        var configuration = SnapshotConfiguration()
        configuration.file = (file, directory)
        for (name, value) in sections {
            guard let members = value.objectValue else {
                throw ConfigurationError(file: file, message: "section '\(name)' is not an object")
            }
            var section: [String: String] = [:]
            for (key, member) in members {
                let text: String
                switch member {
                case .string(let string): text = string
                case .int(let number): text = String(number)
                case .bool(let flag): text = flag ? "true" : "false"
                case .array(let items) where items.allSatisfy({ $0.stringValue != nil }):
                    text = items.compactMap(\.stringValue).joined(separator: ",")
                default: throw ConfigurationError(file: file, message: "\(name).\(key) must be a string, number, boolean or array of strings")
                }
                section[key] = (name != "agent" && isPathKey(key)) ? resolve(text, against: directory) : text
            }
            if name == "agent" {
                let unknown = Set(section.keys).subtracting(["kind", "version", "fingerprint"])
                guard unknown.isEmpty else {
                    throw ConfigurationError(file: file, message: "unknown agent key '\(unknown.sorted()[0])' (known: kind, version, fingerprint)")
                }
                configuration.agent = section
            } else if let kind = LayerKind(rawValue: name) {
                configuration.layers[kind] = section
                configuration.fileValues[kind] = members.compactMapValues { member in
                    switch member {
                    case .string(let string): string
                    case .int(let number): String(number)
                    case .bool(let flag): flag ? "true" : "false"
                    case .array(let items): items.compactMap(\.stringValue).joined(separator: ",")
                    default: nil
                    }
                }
            } else {
                throw ConfigurationError(file: file, message: "unknown section '\(name)' (sections: agent, model, cache, world, effects, trace)")
            }
        }
        return configuration
    }

    /// Applies one `KIND.KEY=VALUE` override (`agent.KEY=VALUE` sets the agent section).
    ///
    /// - Throws: ``ConfigurationError`` when the text is not of that form.
    public mutating func apply(setting: String) throws(ConfigurationError) {
        guard let equals = setting.firstIndex(of: "="), let dot = setting[..<equals].firstIndex(of: ".") else {
            throw ConfigurationError(file: nil, message: "--set '\(setting)' is not KIND.KEY=VALUE (e.g. world.root=./workspace)")
        }
        let section = String(setting[..<dot])
        let key = String(setting[setting.index(after: dot)..<equals])
        let value = String(setting[setting.index(after: equals)...])
        guard !key.isEmpty else { throw ConfigurationError(file: nil, message: "--set '\(setting)' has an empty key") }
        if section == "agent" {
            guard ["kind", "version", "fingerprint"].contains(key) else {
                throw ConfigurationError(file: nil, message: "--set '\(setting)': unknown agent key '\(key)' (known: kind, version, fingerprint)")
            }
            agent[key] = value
        } else if let kind = LayerKind(rawValue: section) {
            layers[kind, default: [:]][key] = value
            fileValues[kind]?[key] = nil
        } else {
            throw ConfigurationError(file: nil, message: "--set '\(setting)': unknown layer '\(section)' (model, cache, world, effects, trace, or agent)")
        }
    }

    public static func == (left: SnapshotConfiguration, right: SnapshotConfiguration) -> Bool {
        left.agent == right.agent && left.layers == right.layers && left.fileValues == right.fileValues
            && left.file?.name == right.file?.name && left.file?.directory == right.file?.directory
    }

    /// The section of `kind` that `plugin` gets, checked against the settings it declares.
    ///
    /// A plugin that declares none gets ``layers`` as it is (the ABI 1.0 behaviour). One that declares
    /// gets its declared keys only: a key it does not declare, a value of the wrong type, or a required
    /// setting unset is a ``ConfigurationError`` naming the key, the valid keys and the nearest one;
    /// unset settings get their default; `path` settings from the config file are resolved against its
    /// directory (and no other key is).
    public func section(for kind: LayerKind, plugin: LoadedPlugin) throws(ConfigurationError) -> [String: String] {
        let given = layers[kind] ?? [:]
        guard let declared = plugin.settings else { return given }
        let byKey = Dictionary(declared.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        var section: [String: String] = [:]
        for (key, value) in given.sorted(by: { $0.key < $1.key }) {
            let fromFile = fileValues[kind]?[key]
            let origin = fromFile == nil ? nil : file?.name
            guard let setting = byKey[key] else {
                let valid = declared.map(\.key).sorted()
                let nearest = Self.nearest(to: key, among: valid).map { " (did you mean \(kind).\($0)?)" } ?? ""
                throw ConfigurationError(file: origin, message: "\(kind).\(DisplayText.escaped(key)) is not a setting of plugin \(plugin.label)\(nearest); its settings: \(valid.joined(separator: ", "))")
            }
            let raw = fromFile ?? value
            if let problem = setting.type.problem(raw) {
                throw ConfigurationError(file: origin, message: "\(kind).\(key)='\(DisplayText.escaped(raw))' \(problem) (\(setting.type.rawValue) setting of plugin \(plugin.label): \(DisplayText.escaped(setting.help)))")
            }
            if setting.type == .path, fromFile != nil, let directory = file?.directory {
                section[key] = Self.resolve(raw, against: directory)
            } else {
                section[key] = raw
            }
        }
        for setting in declared where section[setting.key] == nil {
            if let value = setting.defaultValue {
                section[setting.key] = value
            } else if setting.required {
                throw ConfigurationError(file: nil, message: "\(kind).\(setting.key) is required by plugin \(plugin.label) (\(DisplayText.escaped(setting.help))): set it in the config file's \"\(kind)\" section or with --set \(kind).\(setting.key)=VALUE")
            }
        }
        return section
    }

    /// The key of `candidates` closest to `key` (by edit distance, at most 2, or one a prefix of the
    /// other), or nil.
    static func nearest(to key: String, among candidates: [String]) -> String? {
        let scored = candidates.map { candidate -> (String, Int) in
            let distance = editDistance(Array(key.utf8), Array(candidate.utf8))
            let prefix = candidate.hasPrefix(key) || key.hasPrefix(candidate)
            return (candidate, prefix ? min(distance, 2) : distance)
        }
        guard let best = scored.min(by: { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }), best.1 <= 2 else { return nil }
        return best.0
    }

    /// Levenshtein distance, with a transposition counted as one edit.
    private static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1) }
            }
        }
        return table[a.count][b.count]
    }

    static func isPathKey(_ key: String) -> Bool {
        ["path", "root", "dom"].contains(key) || key.hasSuffix("_path") || key.hasSuffix("_dir") || key.hasSuffix("_file")
    }

    private static func directoryOf(_ file: String) -> String {
        let absolute = file.hasPrefix("/") ? file : currentDirectory() + "/" + file
        guard let slash = absolute.lastIndex(of: "/") else { return "." }
        return slash == absolute.startIndex ? "/" : String(absolute[..<slash])
    }

    private static func resolve(_ path: String, against directory: String) -> String {
        if path.hasPrefix("/") || path.isEmpty { return path }
        let trimmed = path.hasPrefix("./") ? String(path.dropFirst(2)) : path
        return trimmed.isEmpty || trimmed == "." ? directory : directory + "/" + trimmed
    }

    private static func currentDirectory() -> String {
        (try? SystemCalls.currentDirectory()) ?? "."
    }

    private static func readAll(_ file: String) throws(ReadFailure) -> [UInt8] {
        do { return try SystemCalls().readFile(file, limit: 16 << 20) } catch {
            switch error.code {
            case EFBIG: throw ReadFailure(reason: "larger than 16 MiB")
            case EISDIR: throw ReadFailure(reason: "Is a directory")
            case EINVAL: throw ReadFailure(reason: "not a regular file")
            default: throw ReadFailure(reason: error.reason)
            }
        }
    }
}

/// A read failure's reason, for ``SnapshotConfiguration/load(file:)``.
private struct ReadFailure: Error {
    let reason: String
}
