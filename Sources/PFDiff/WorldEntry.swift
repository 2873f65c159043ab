import PFModel

/// One entry of a world tree index (docs/plugins.md, the world plugin): a file, directory,
/// symlink or other, by its exact path bytes.
public struct WorldEntry: Sendable {
    /// The path relative to the world root, byte for byte (not always UTF-8).
    public var path: [UInt8]
    /// `file`, `directory`, `symlink` or `other`.
    public var type: String
    /// Permission bits.
    public var mode: Int64
    /// Modification time in nanoseconds.
    public var mtimeNanoseconds: Int64
    /// A file's size.
    public var size: Int64?
    /// A symlink's target, byte for byte.
    public var target: [UInt8]?
    /// What identifies a file's bytes: its blob's digest, or, for a file in a pack, the digest of
    /// its bytes there once `diff` has read them (nil until then, and for other entries).
    public var content: Digest?
    /// A packed file's pack and offset.
    var packed: (pack: Digest, offset: Int64)?

    /// What differs between `old` and `new` at one path: `type`, `mode`, `target`, `size`,
    /// `content` (the modification time alone is not a change; see ``WorldDiff/touched``).
    public static func differences(_ old: WorldEntry, _ new: WorldEntry) -> [String] {
        var differences: [String] = []
        if old.type != new.type { differences.append("type") }
        if old.mode != new.mode { differences.append("mode") }
        if old.target != new.target { differences.append("target") }
        if old.size != new.size { differences.append("size") }
        else if old.type == "file", new.type == "file", !old.sameContent(as: new) { differences.append("content") }
        return differences
    }

    /// Whether two files of the same size hold the same bytes, as far as their index says or
    /// `diff` read: the same blob, the same place in the same pack, or equal digests of their bytes.
    func sameContent(as other: WorldEntry) -> Bool {
        if let packed, let otherPacked = other.packed, packed.pack == otherPacked.pack, packed.offset == otherPacked.offset { return true }
        guard let content, let otherContent = other.content else { return false }
        return content == otherContent
    }

    /// `{"path"|"path_bytes":…,"type":…,"mode":N,"mtime_ns":N}` with `size`, `digest` and
    /// `target`/`target_bytes` where they apply: the index's own spelling of names.
    public var json: JSONValue {
        var object: [String: JSONValue] = ["type": .string(type), "mode": .int(mode), "mtime_ns": .int(mtimeNanoseconds)]
        Self.name(path, "path", "path_bytes", into: &object)
        if let target { Self.name(target, "target", "target_bytes", into: &object) }
        if let size { object["size"] = .int(size) }
        if let content { object["digest"] = .string(content.description) }
        return .object(object)
    }

    static func name(_ bytes: [UInt8], _ plain: String, _ encoded: String, into object: inout [String: JSONValue]) {
        if CanonicalJSON.isValidUTF8(bytes) {
            object[plain] = .string(String(decoding: bytes, as: UTF8.self))
        } else {
            object[encoded] = .string(Base64.encode(bytes))
        }
    }
}
