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
    /// The digest of a file stored as a blob of its own (nil for a file in a pack, and for other entries).
    public var content: Digest?
    /// A packed file's pack and offset.
    var packed: (pack: Digest, offset: Int64)?
    /// Whether `diff` found this file's bytes equal to those at the same path on the other side,
    /// when it had to read them to know (same size, another place); nil when it did not read them.
    var sameBytes: Bool?

    /// Where a file's bytes are: its pack and offset, or its own blob from offset 0.
    var location: (blob: Digest, offset: Int64)? {
        if let packed { return (packed.pack, packed.offset) }
        return content.map { ($0, 0) }
    }

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
    /// `diff` read: the same blob, the same place in the same pack, or bytes compared equal.
    func sameContent(as other: WorldEntry) -> Bool {
        if let location, let otherLocation = other.location, location.blob == otherLocation.blob, location.offset == otherLocation.offset {
            return true
        }
        return sameBytes ?? other.sameBytes ?? false
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
