import PFModel

/// One descriptor of a snapshot's OCI graph: what is pushed or pulled, found by walking from the
/// snapshot's root, so that push and pull move any layout (an image manifest with its config and
/// layers, or an image index of such manifests) without knowing pfhost's store format.
struct GraphNode: Hashable, Sendable {
    var mediaType: String
    var digest: Digest
    var size: Int64

    /// Whether this descriptor names a manifest or an index (fetched and stored through the
    /// registry's manifest endpoint, and walked into), rather than a blob.
    var isManifest: Bool { Self.manifestTypes.contains(mediaType) }

    static let manifestTypes: Set<String> = [
        MediaType.ociManifest, MediaType.ociIndex,
        "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json",
    ]

    /// The descriptors a manifest or index document points to: `manifests` of an index, `config`
    /// and `layers` of an image manifest. `what` names the document in errors.
    static func children(of document: [UInt8], what: String) throws(RegistryError) -> (mediaType: String?, children: [GraphNode], json: JSONValue) {
        let json: JSONValue
        do { json = try JSONParser.parse(document) } catch {
            throw .notASnapshot(what, reason: "it is not JSON: \(error)")
        }
        var children: [GraphNode] = []
        func add(_ value: JSONValue, _ field: String) throws(RegistryError) {
            guard let mediaType = value["mediaType"]?.stringValue, let text = value["digest"]?.stringValue,
                  case .int(let size)? = value["size"], size >= 0 else {
                throw .notASnapshot(what, reason: "its \(field) is not a descriptor with mediaType, digest and a size")
            }
            let digest: Digest
            do { digest = try Digest(parsing: text) } catch {
                throw .notASnapshot(what, reason: "its \(field) has digest '\(DisplayText.escaped(text))': \(error)")
            }
            children.append(GraphNode(mediaType: mediaType, digest: digest, size: size))
        }
        if case .array(let manifests)? = json["manifests"] {
            for entry in manifests { try add(entry, "manifests entry") }
        }
        if let config = json["config"] { try add(config, "config") }
        if case .array(let layers)? = json["layers"] {
            for layer in layers { try add(layer, "layers entry") }
        }
        return (json["mediaType"]?.stringValue, children, json)
    }

    /// Whether a root document says it is a pfhost snapshot: its `artifactType`, its config's media
    /// type or one of its annotations' values (an index's), or one of an index's entries' (their
    /// `artifactType`, `mediaType` or annotations), is one of pfhost's `application/vnd.pfhost.*` types.
    static func isPfhost(_ json: JSONValue) -> Bool {
        func pfhost(_ value: JSONValue?) -> Bool { value?.stringValue?.hasPrefix("application/vnd.pfhost.") == true }
        func annotated(_ value: JSONValue) -> Bool { value["annotations"]?.objectValue?.values.contains(where: pfhost) == true }
        if pfhost(json["artifactType"]) || pfhost(json["config"]?["mediaType"]) || annotated(json) { return true }
        if case .array(let entries)? = json["manifests"] {
            return entries.contains { pfhost($0["artifactType"]) || pfhost($0["mediaType"]) || annotated($0) }
        }
        return false
    }
}
