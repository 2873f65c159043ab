/// The OCI documents written straight to canonical JSON, without `Encodable`: the same bytes as
/// `CanonicalJSON.encode(_:)` of the value (keys sorted by their bytes, nil members left out),
/// an order of magnitude sooner. A commit writes a layer manifest listing every blob of a layer,
/// hundreds of descriptors for a large model or KV cache, for every snapshot.
extension OCIDescriptor {
    /// Appends the descriptor's canonical JSON to `out`.
    public func appendCanonicalJSON(to out: inout [UInt8]) {
        appendOpening(annotations: annotations, artifactType: artifactType, to: &out)
        out.append(contentsOf: #""digest":"#.utf8)
        CanonicalJSON.appendString(digest.description, to: &out)
        out.append(contentsOf: #","mediaType":"#.utf8)
        CanonicalJSON.appendString(mediaType, to: &out)
        out.append(contentsOf: #","size":"#.utf8)
        CanonicalJSON.appendInteger(size, to: &out)
        out.append(UInt8(ascii: "}"))
    }
}

extension OCIManifest {
    /// The manifest's canonical JSON: `CanonicalJSON.encode(self)`, byte for byte.
    public var canonicalJSON: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256 + 160 * layers.count)
        appendOpening(annotations: annotations, artifactType: artifactType, to: &out)
        out.append(contentsOf: #""config":"#.utf8)
        config.appendCanonicalJSON(to: &out)
        out.append(contentsOf: #","layers":["#.utf8)
        for (index, layer) in layers.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            layer.appendCanonicalJSON(to: &out)
        }
        out.append(contentsOf: #"],"mediaType":"#.utf8)
        CanonicalJSON.appendString(mediaType, to: &out)
        out.append(contentsOf: #","schemaVersion":"#.utf8)
        CanonicalJSON.appendInteger(Int64(schemaVersion), to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }
}

/// `{`, then the members that sort before every other of a descriptor's and a manifest's:
/// `annotations` and `artifactType`, each when present, each followed by a comma.
private func appendOpening(annotations: [String: String]?, artifactType: String?, to out: inout [UInt8]) {
    out.append(UInt8(ascii: "{"))
    if let annotations {
        out.append(contentsOf: #""annotations":"#.utf8)
        appendCanonicalAnnotations(annotations, to: &out)
        out.append(UInt8(ascii: ","))
    }
    if let artifactType {
        out.append(contentsOf: #""artifactType":"#.utf8)
        CanonicalJSON.appendString(artifactType, to: &out)
        out.append(UInt8(ascii: ","))
    }
}

/// An annotations map as canonical JSON: keys sorted by their bytes.
private func appendCanonicalAnnotations(_ annotations: [String: String], to out: inout [UInt8]) {
    out.append(UInt8(ascii: "{"))
    for (index, key) in annotations.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
        if index > 0 { out.append(UInt8(ascii: ",")) }
        CanonicalJSON.appendString(key, to: &out)
        out.append(UInt8(ascii: ":"))
        CanonicalJSON.appendString(annotations[key]!, to: &out)
    }
    out.append(UInt8(ascii: "}"))
}
