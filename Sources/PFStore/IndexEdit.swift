import PFModel

/// The changes a store makes to `index.json`, as pure functions on ``OCIIndex``.
enum IndexEdit {
    /// Adds snapshot `entry` to the index, moving `tag` to it when given.
    ///
    /// A snapshot keeps exactly one untagged entry while it has no tag, so a snapshot that
    /// loses its last tag to another stays listed. A tag names one snapshot at a time.
    static func add(_ entry: OCIDescriptor, tag: String?, to index: inout OCIIndex) {
        var manifests = index.manifests
        var displaced: [Digest] = []
        if let tag {
            manifests.removeAll { descriptor in
                guard descriptor.refName == tag else { return false }
                displaced.append(descriptor.digest)
                return true
            }
            // A tagged entry replaces the snapshot's untagged one.
            manifests.removeAll { $0.digest == entry.digest && $0.refName == nil }
            var tagged = entry
            tagged.annotations = (entry.annotations ?? [:]).merging([AnnotationKey.refName: tag]) { $1 }
            manifests.append(tagged)
        } else if !manifests.contains(where: { $0.digest == entry.digest }) {
            manifests.append(entry)
        }
        for digest in displaced where !manifests.contains(where: { $0.digest == digest }) {
            if let old = index.manifests.first(where: { $0.digest == digest }) {
                var untagged = old
                untagged.annotations?.removeValue(forKey: AnnotationKey.refName)
                if untagged.annotations?.isEmpty == true { untagged.annotations = nil }
                manifests.append(untagged)
            }
        }
        index.manifests = manifests
    }

    /// Whether `tag` may be used as a tag: the OCI distribution tag grammar.
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
}
