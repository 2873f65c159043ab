import PFModel

/// What pfhost sends a capture process on its stdin once the plugin set is known: one line of
/// canonical JSON, `{"config":{KEY:VALUE,…},"parent_layer":"<base64>"|null}`. Closing the stdin
/// afterwards cancels the capture; closing it before this line ends the process unused.
struct CaptureRequest: Equatable, Sendable {
    /// The plugin's configuration section.
    var config: [String: String]
    /// The plugin's layer in the first parent, as canonical JSON, or nil for a root snapshot.
    var parentLayer: [UInt8]?

    /// The request as one line, newline included.
    var line: [UInt8] {
        let object: JSONValue = .object([
            "config": .object(config.mapValues { .string($0) }),
            "parent_layer": parentLayer.map { .string(Base64.encode($0)) } ?? .null,
        ])
        return CanonicalJSON.encode(object) + [0x0a]
    }

    init(config: [String: String], parentLayer: [UInt8]?) {
        self.config = config
        self.parentLayer = parentLayer
    }

    /// The request in `line` (without its newline), or nil when it is not one.
    init?(line: some Collection<UInt8>) {
        guard let value = try? JSONParser.parse(line), let config = value["config"]?.objectValue else { return nil }
        var settings: [String: String] = [:]
        for (key, member) in config {
            guard let text = member.stringValue else { return nil }
            settings[key] = text
        }
        self.config = settings
        switch value["parent_layer"] {
        case .string(let text)?:
            guard let bytes = Base64.decode(text) else { return nil }
            parentLayer = bytes
        case .null?, nil:
            parentLayer = nil
        default:
            return nil
        }
    }
}
