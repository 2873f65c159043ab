import PFModel

/// The changes a store makes to `index.json`, as pure functions: planned on the entries' digests
/// and tags, applied to a decoded ``OCIIndex`` or to a ``RawIndex``.
enum IndexEdit {
    /// What adding a snapshot does to the entries of an index.
    struct Plan: Equatable {
        /// Positions of entries to drop.
        var remove: Set<Int> = []
        /// Positions of entries that lose their tag and stay.
        var untag: Set<Int> = []
        /// The entry to append, if any.
        var append: OCIDescriptor?
    }

    /// Adding snapshot `entry` to an index whose entries are `listed` (digest and tag of each, in
    /// order), moving `tag` to it when given.
    ///
    /// A snapshot keeps exactly one untagged entry while it has no tag, so a snapshot that
    /// loses its last tag to another stays listed. A tag names one snapshot at a time. An old
    /// snapshot left with no entry stays, untagged, where it was, so the index keeps the order in
    /// which snapshots were added.
    static func plan(adding entry: OCIDescriptor, tag: String?, to listed: [(digest: Digest, refName: String?)]) -> Plan {
        guard let tag else {
            return Plan(append: listed.contains { $0.digest == entry.digest } ? nil : entry)
        }
        var plan = Plan()
        for position in listed.indices where listed[position].refName == tag {
            let digest = listed[position].digest
            let listedElsewhere = listed.indices.contains { $0 != position && listed[$0].digest == digest }
            if listedElsewhere || digest == entry.digest {
                plan.remove.insert(position)
            } else {
                plan.untag.insert(position)
            }
        }
        // A tagged entry replaces the snapshot's untagged one.
        for position in listed.indices where listed[position].digest == entry.digest && listed[position].refName == nil {
            plan.remove.insert(position)
        }
        var tagged = entry
        tagged.annotations = (entry.annotations ?? [:]).merging([AnnotationKey.refName: tag]) { $1 }
        plan.append = tagged
        return plan
    }

    /// Adds snapshot `entry` to a decoded index: ``plan(adding:tag:to:)`` applied.
    static func add(_ entry: OCIDescriptor, tag: String?, to index: inout OCIIndex) {
        let plan = plan(adding: entry, tag: tag, to: index.manifests.map { ($0.digest, $0.refName) })
        var manifests = index.manifests
        for position in plan.untag { untag(&manifests[position]) }
        manifests = manifests.enumerated().filter { !plan.remove.contains($0.offset) }.map(\.element)
        if let added = plan.append { manifests.append(added) }
        index.manifests = manifests
    }

    /// Removes the tag from an entry (and its annotations when none are left).
    static func untag(_ descriptor: inout OCIDescriptor) {
        descriptor.annotations?.removeValue(forKey: AnnotationKey.refName)
        if descriptor.annotations?.isEmpty == true { descriptor.annotations = nil }
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
