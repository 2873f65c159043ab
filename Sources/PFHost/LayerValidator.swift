import PFModel
import PFStore

/// Checks the layer JSON a plugin passes to `set_layer`.
///
/// The JSON must be an object whose `kind` is the plugin's declared kind, valid against the
/// published schema of that kind (`plugin-sdk/schema/layer-KIND.schema.json`, embedded as
/// ``PublishedSchemas`` and checked by ``JSONSchemaValidator``: unknown fields, wrong formats and
/// missing fields are refused, never dropped), and that decodes as that kind's typed layer; every `blobs` entry must be in the store with its exact size; and
/// every blob its content refers to (``LayerContent/blobReferences``) must be one of its `blobs`, so
/// the snapshot's OCI manifest, which lists `blobs`, carries everything the layer refers to. Text
/// the agent controls (an environment value, an annotation) may hold any string, digests included.
public enum LayerValidator {
    /// The published layer schemas (and the definitions they share), parsed once per process.
    static let published = Result { () throws(SchemaViolation) in
        try JSONSchemaValidator(documents: PublishedSchemas.documents.filter { $0.key.hasPrefix("layer-") || $0.key == "common.schema.json" })
    }

    /// Why the stored layer JSON `bytes` is not a sound layer of `kind`, or nil when it is: it
    /// matches the published schema of `kind` (`kind` included), carries the `plugin` stamp the host
    /// adds, and its content refers to no blob outside its `blobs`. What `pfhost verify` asks of every layer a
    /// store holds, since a layer pulled or written by another tool never passed a capture's checks.
    public static func storedLayerProblem(_ bytes: [UInt8], kind: LayerKind) -> String? {
        let json: JSONValue
        do { json = try JSONParser.parse(bytes) } catch { return "not valid JSON: \(error)" }
        guard json["kind"]?.stringValue == kind.rawValue else { return "its kind is not \"\(kind)\"" }
        let validator: JSONSchemaValidator
        do { validator = try published.get() } catch { return "the host's schemas cannot be used: \(error)" }
        let schema = "layer-\(kind.rawValue).schema.json"
        do { try validator.validate(json, against: schema) } catch {
            return "does not match plugin-sdk/schema/\(schema): \(error)"
        }
        // What a stored layer has beyond its schema: the stamp of the plugin that captured it, and
        // (as at capture) every blob its content refers to among its blobs.
        guard json["plugin"]?["id"]?.stringValue != nil, json["plugin"]?["version"]?.stringValue != nil else {
            return "it has no plugin stamp (\"plugin\": {\"id\", \"version\"}), which pfhost adds to every layer it stores"
        }
        guard let layer = try? CapturedLayer.decode(json, as: kind) else { return "it does not decode as \(kind.article) \(kind) layer" }
        let listed = Set(layer.blobs.map(\.digest))
        if let unlisted = layer.blobReferences.first(where: { !listed.contains($0) }) {
            return "it refers to \(unlisted), which is not listed in its blobs"
        }
        return nil
    }

    /// The layer `bytes` a plugin of `kind` handed over, checked; `parentLayer` is the parent's
    /// layer the plugin was given (its canonical JSON, stamped with the plugin that captured it).
    ///
    /// A layer whose bytes are the parent's layer as the plugin was given it, or the same without its
    /// `plugin` stamp (an unchanged layer, handed back as the parent's) is not checked against the schema
    /// again: it adds nothing to the store that is not in it already, and on a warm snapshot the
    /// schema walk was most of the host's own work. Everything else is checked as for any layer:
    /// its kind, its typed decoding, its blobs present with their sizes, its digests all listed.
    ///
    /// - Returns: the layer, and whether it is the parent's layer unchanged.
    static func validate(_ bytes: [UInt8], kind: LayerKind, store: SnapshotStore,
                         parentLayer: [UInt8]? = nil) throws(LayerValidationError) -> (layer: CapturedLayer, unchanged: Bool) {
        // Handed back as given (stamp and all), or without the stamp, which makes it shorter.
        let unchanged = parentLayer.map { $0 == bytes || ($0.count > bytes.count && unstamped($0) == bytes) } ?? false
        do {
            return (try check(bytes, kind: kind, store: store, unchanged: unchanged), unchanged)
        } catch {
            // The plugin handed back what it was given: what is wrong is the parent's layer.
            var error = error
            error.inParentLayer = unchanged
            throw error
        }
    }

    /// ``validate(_:kind:store:parentLayer:)``'s checks, the schema's only when not `unchanged`.
    private static func check(_ bytes: [UInt8], kind: LayerKind, store: SnapshotStore, unchanged: Bool) throws(LayerValidationError) -> CapturedLayer {
        let json: JSONValue
        do { json = try JSONParser.parse(bytes) } catch {
            throw LayerValidationError("the layer is not valid JSON: \(error)")
        }
        guard let object = json.objectValue else { throw LayerValidationError("the layer JSON is not an object") }
        guard let declared = object["kind"]?.stringValue else {
            throw LayerValidationError("the layer JSON has no string 'kind' (expected \"\(kind)\")")
        }
        guard declared == kind.rawValue else {
            throw LayerValidationError("the layer JSON has kind \"\(declared)\" but the plugin declares the \(kind) layer")
        }
        if !unchanged {
            let validator: JSONSchemaValidator
            do { validator = try published.get() } catch { throw LayerValidationError("the host's schemas cannot be used: \(error)") }
            let schema = "layer-\(kind.rawValue).schema.json"
            do { try validator.validate(json, against: schema) } catch {
                throw LayerValidationError("the layer does not match plugin-sdk/schema/\(schema): \(error)")
            }
        }
        let layer: CapturedLayer
        do { layer = try CapturedLayer.decode(json, as: kind) } catch {
            throw LayerValidationError("the layer JSON is not a valid \(kind) layer: \(describeJSONError(error))")
        }
        var listed = Set<Digest>()
        for blob in layer.blobs {
            let size: Int64?
            do { size = try store.size(of: blob.digest) } catch {
                throw LayerValidationError("cannot check blob \(blob.digest): \(error)")
            }
            guard let size else {
                var error = LayerValidationError(unchanged
                    ? "blobs lists \(blob.digest), which is not in the store (the layer is the parent's, handed back unchanged: the store lost it; run 'pfhost verify --all')"
                    : "blobs lists \(blob.digest), which the plugin never wrote to the store")
                error.blob = blob.digest
                throw error
            }
            guard size == blob.size else {
                var error = LayerValidationError(unchanged
                    ? "blobs says \(blob.digest) has \(blob.size) bytes; the stored blob has \(size) (the layer is the parent's, handed back unchanged: when it reused the blob from the parent layer, that blob is damaged in the store: run 'pfhost verify --all')"
                    : "blobs says \(blob.digest) has \(blob.size) bytes; the stored blob has \(size): the plugin listed the wrong size (or, when it reused the blob from the parent layer, that blob is damaged in the store: run 'pfhost verify --all')")
                error.blob = blob.digest
                throw error
            }
            listed.insert(blob.digest)
        }
        if let unlisted = layer.blobReferences.first(where: { !listed.contains($0) }) {
            throw LayerValidationError("the layer refers to \(unlisted), which is not listed in its blobs")
        }
        // What restore would refuse: a model file whose chunks do not add up to it, or whose path leads out.
        if case .model(let model) = layer, let problem = model.content.problems(blobs: model.blobs).first {
            throw LayerValidationError(problem)
        }
        return layer
    }

    /// The parent's layer `parent` (canonical JSON) without its `plugin` stamp, canonically encoded.
    static func unstamped(_ parent: [UInt8]) -> [UInt8]? {
        if let object = CanonicalObject(parent) { return object.removing("plugin") }
        // Keys CanonicalObject leaves to the parser.
        guard case .object(var members)? = try? JSONParser.parse(parent) else { return nil }
        members["plugin"] = nil
        return CanonicalJSON.encode(.object(members))
    }
}
