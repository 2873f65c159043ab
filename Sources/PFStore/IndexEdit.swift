import PFModel

/// The changes a store makes to `index.json`, as pure functions on ``OCIIndex``.
enum IndexEdit {
    /// Adds snapshot `entry` to the index, moving `tag` to it when given.
    ///
    /// A snapshot keeps exactly one untagged entry while it has no tag, so a snapshot that
    /// loses its last tag to another stays listed. A tag names one snapshot at a time.
    static func add(_ entry: OCIDescriptor, tag: String?, to index: inout OCIIndex) {
        var manifests = index.manifests
        guard let tag else {
            if !manifests.contains(where: { $0.digest == entry.digest }) { manifests.append(entry) }
            index.manifests = manifests
            return
        }
        // The tag leaves its old snapshot; an old snapshot left with no entry stays, untagged,
        // where it was, so the index keeps the order in which snapshots were added.
        var remove = Set<Int>()
        for position in manifests.indices where manifests[position].refName == tag {
            let digest = manifests[position].digest
            let listedElsewhere = manifests.indices.contains { $0 != position && manifests[$0].digest == digest }
            if listedElsewhere || digest == entry.digest {
                remove.insert(position)
            } else {
                manifests[position].annotations?.removeValue(forKey: AnnotationKey.refName)
                if manifests[position].annotations?.isEmpty == true { manifests[position].annotations = nil }
            }
        }
        // A tagged entry replaces the snapshot's untagged one.
        for position in manifests.indices where manifests[position].digest == entry.digest && manifests[position].refName == nil {
            remove.insert(position)
        }
        manifests = manifests.enumerated().filter { !remove.contains($0.offset) }.map(\.element)
        var tagged = entry
        tagged.annotations = (entry.annotations ?? [:]).merging([AnnotationKey.refName: tag]) { $1 }
        manifests.append(tagged)
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
