import PFModel
import PFSystem
#if canImport(Glibc)
import Glibc
#endif

/// A user name and password (or token) for a registry, and where they came from.
///
/// ```swift
/// let credentials = try RegistryCredentials.find(for: "registry.example.com")
/// ```
public struct RegistryCredentials: Sendable, Equatable {
    /// The user name.
    public var username: String
    /// The password or access token.
    public var password: String
    /// Where they were found, for messages (never the secret itself).
    public var source: String

    /// Credentials given directly.
    public init(username: String, password: String, source: String) {
        self.username = username
        self.password = password
        self.source = source
    }

    /// The credentials for `registry` (`host[:port]`), looked up in this order:
    /// `PFHOST_REGISTRY_USERNAME` and `PFHOST_REGISTRY_PASSWORD`; the `auths` entry for the
    /// registry in `$REGISTRY_AUTH_FILE` (Podman), `$DOCKER_CONFIG/config.json`, else
    /// `~/.docker/config.json`. Nil when none says anything about this registry.
    ///
    /// - Throws: ``RegistryError/credentials(_:)`` when a file exists but cannot be read or
    ///   its entry is malformed: silently pushing without credentials would hide that.
    public static func find(for registry: String, system: SystemCalls = SystemCalls()) throws(RegistryError) -> RegistryCredentials? {
        if let username = try environment("PFHOST_REGISTRY_USERNAME") {
            guard let password = try environment("PFHOST_REGISTRY_PASSWORD") else {
                throw .credentials("PFHOST_REGISTRY_USERNAME is set but PFHOST_REGISTRY_PASSWORD is not")
            }
            return RegistryCredentials(username: username, password: password, source: "PFHOST_REGISTRY_USERNAME")
        }
        if try environment("PFHOST_REGISTRY_PASSWORD") != nil {
            throw .credentials("PFHOST_REGISTRY_PASSWORD is set but PFHOST_REGISTRY_USERNAME is not")
        }
        var files: [String] = []
        if let file = try environment("REGISTRY_AUTH_FILE") { files.append(file) }
        if let directory = try environment("DOCKER_CONFIG") {
            files.append(directory + "/config.json")
        } else if let home = try environment("HOME") {
            files.append(home + "/.docker/config.json")
        }
        for file in files {
            if let found = try fromConfigFile(file, registry: registry, system: system) { return found }
        }
        return nil
    }

    /// The `auths` entry for `registry` in a Docker/Podman credential file; nil when the file or the
    /// entry does not exist.
    static func fromConfigFile(_ file: String, registry: String, system: SystemCalls) throws(RegistryError) -> RegistryCredentials? {
        let bytes: [UInt8]
        do { bytes = try system.readFile(file, limit: 4 << 20) } catch where error.code == ENOENT || error.code == ENOTDIR {
            return nil
        } catch {
            throw .credentials("\(error)")
        }
        let json: JSONValue
        do { json = try JSONParser.parse(bytes) } catch {
            throw .credentials("\(file) is not valid JSON: \(error)")
        }
        guard let auths = json["auths"]?.objectValue else { return nil }
        let keys = [registry, "https://" + registry, "http://" + registry, "https://" + registry + "/v1/", "https://" + registry + "/v2/"]
        guard let entry = keys.lazy.compactMap({ auths[$0] }).first else { return nil }
        if let encoded = entry["auth"]?.stringValue, !encoded.isEmpty {
            guard let decoded = Base64.decode(encoded), let text = String(validating: decoded, as: UTF8.self),
                  let colon = text.firstIndex(of: ":") else {
                throw .credentials("the auths entry for \(registry) in \(file) has an 'auth' that is not base64 of user:password")
            }
            return RegistryCredentials(username: String(text[..<colon]), password: String(text[text.index(after: colon)...]), source: file)
        }
        if let username = entry["username"]?.stringValue, let password = entry["password"]?.stringValue {
            return RegistryCredentials(username: username, password: password, source: file)
        }
        return nil
    }

    /// `Basic base64(user:password)`: base64 never holds a character that could break the header line.
    var basicAuthorization: String {
        "Basic " + Base64.encode(Array((username + ":" + password).utf8))
    }

    /// Environment variable `name` (nil when unset or empty); one that is not valid UTF-8 is an
    /// error naming it (its bytes unprinted): decoded, it would be another password, user or file.
    private static func environment(_ name: String) throws(RegistryError) -> String? {
        guard let bytes = SystemCalls.environmentBytes(name) else { return nil }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .credentials("$\(name) is not valid UTF-8: set it to UTF-8 text (a password or a path with other bytes would be read as another)")
        }
        return text.isEmpty ? nil : text
    }
}
