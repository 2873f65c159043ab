import PFModel

/// `index.json` as read: the store's format and its entries.
///
/// Format 2 lists one entry per tag; format 1 (read, and upgraded by the first write) lists every
/// snapshot. See `docs/store-format.md`.
struct IndexDocument {
    /// 1 or 2.
    var format: Int
    /// The entries, in order.
    var entries: [OCIDescriptor]
    /// The index's other annotations, kept as they were.
    var annotations: [String: String]
    /// The bytes it was read from (empty for a new one): what a failed update puts back.
    var source: [UInt8] = []

    /// An empty format-2 index.
    static let empty = IndexDocument(format: 2, entries: [], annotations: [:])

    /// Parses `index.json`'s bytes.
    ///
    /// - Throws: ``StoreError/corrupt(file:reason:)`` when it is not an OCI image index;
    ///   ``StoreError/notAStore(path:reason:)`` when it says a store format this pfhost does not read.
    static func parse(_ bytes: [UInt8], file: String, store: String) throws(StoreError) -> IndexDocument {
        let index: OCIIndex
        do {
            index = try CanonicalJSON.decode(OCIIndex.self, from: bytes)
        } catch {
            throw .corrupt(file: file, reason: describeJSONError(error))
        }
        guard index.schemaVersion == 2 else {
            throw .corrupt(file: file, reason: "schemaVersion is \(index.schemaVersion), expected 2")
        }
        var annotations = index.annotations ?? [:]
        let format: Int
        switch annotations.removeValue(forKey: AnnotationKey.storeFormat) {
        case nil: format = 1
        case "2": format = 2
        case let other?:
            throw .notAStore(path: store, reason: "\(file) says store format \(other); this pfhost reads 1 and 2")
        }
        return IndexDocument(format: format, entries: index.manifests, annotations: annotations, source: bytes)
    }

    /// The canonical bytes of this index as format 2.
    func encoded() -> [UInt8] {
        let index = OCIIndex(manifests: entries, annotations: annotations.merging([AnnotationKey.storeFormat: "2"]) { $1 })
        return try! CanonicalJSON.encode(index)
    }

    /// The entry of `tag`, if any.
    func entry(tagged tag: String) -> OCIDescriptor? {
        entries.first { $0.refName == tag }
    }

    /// Points `tag` at `root` (moving it to the end of the list).
    mutating func setTag(_ tag: String, to root: OCIDescriptor, created: String) {
        entries.removeAll { $0.refName == tag }
        var entry = OCIDescriptor(mediaType: root.mediaType, digest: root.digest, size: root.size,
                                  artifactType: root.mediaType == MediaType.ociIndex ? nil : MediaType.snapshotArtifact)
        var annotations = [AnnotationKey.refName: tag]
        if !created.isEmpty { annotations[AnnotationKey.created] = created }
        entry.annotations = annotations
        entries.append(entry)
    }

    /// Removes `tag`; false when there was no such tag.
    mutating func removeTag(_ tag: String) -> Bool {
        let before = entries.count
        entries.removeAll { $0.refName == tag }
        return entries.count != before
    }

    /// Removes every tag of the snapshots in `ids` (and any untagged entry of theirs).
    mutating func remove(_ ids: Set<Digest>) {
        entries.removeAll { ids.contains($0.digest) }
    }

    /// Whether `tag` may be used as a new tag: the OCI distribution tag grammar, and not a string of
    /// 7 or more hex digits, in either case (which would read as a content-id prefix).
    static func isValidTag(_ tag: String) -> Bool {
        let bytes = Array(tag.utf8)
        guard (1...128).contains(bytes.count) else { return false }
        func word(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
        }
        guard word(bytes[0]) else { return false }
        return bytes.dropFirst().allSatisfy { word($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    /// Whether `text` looks like a content id or a prefix of one: 12 or more lowercase hex digits.
    static func looksLikeContentID(_ text: String) -> Bool {
        text.utf8.count >= minimumPrefix && isHex(text.lowercased())
    }

    /// The fewest hex digits a content-id prefix may have (as git).
    static let minimumPrefix = 7

    static func isHex(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0)
        }
    }

    /// Why `tag` cannot be a new tag, or nil when it can.
    static func tagProblem(_ tag: String) -> String? {
        if !isValidTag(tag) { return "a tag is 1 to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'" }
        if looksLikeContentID(tag) { return "a tag of \(minimumPrefix) or more hex digits (in either case) would read as a content-id prefix; choose another name" }
        return nil
    }
}
