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
/// from any working directory. A value is a path when its key is `path`, `root` or `dom`, or
/// ends in `_path`, `_dir` or `_file`. `--set KIND.KEY=VALUE` overrides the file.
public struct SnapshotConfiguration: Sendable, Equatable {
    /// The agent section.
    public var agent: [String: String] = [:]
    /// The section of each layer kind.
    public var layers: [LayerKind: [String: String]] = [:]

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
                default: throw ConfigurationError(file: file, message: "\(name).\(key) must be a string, number or boolean")
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
        } else {
            throw ConfigurationError(file: nil, message: "--set '\(setting)': unknown layer '\(section)' (model, cache, world, effects, trace, or agent)")
        }
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
