import PFModel

/// One entry of the world tree index, written straight to canonical JSON: its members are
/// appended in byte order of their keys (`blob`, `changed`, `mode`, `mtime_ns`, `offset`, `pack`,
/// `path`, `path_bytes`, `size`, `target`, `target_bytes`, `type`), which is what ``CanonicalJSON``
/// would write for the same object.
///
/// A path (or link target) that is valid UTF-8 is written as the string `path`; any other is
/// written as `path_bytes`, the Base64 of its exact bytes, so every name the kernel allows is
/// recorded without loss and no two names collide.
struct IndexRecord {
    let entry: TreeEntry
    /// The blob of a file stored on its own.
    var blob: Digest?
    /// The pack and offset of a file stored in a pack.
    var location: (pack: Int, offset: Int64)?
    /// The bytes stored, when they differ from the size the walk saw (the file changed).
    var storedSize: Int64?
    /// The file changed while it was captured: what is stored is the prefix that was read.
    var changed = false
    /// The file is not in the snapshot (it vanished, or holds a private key): no record is written.
    var omitted = false

    init(entry: TreeEntry) {
        self.entry = entry
    }

    /// The size the record gives: what was stored.
    var size: Int64 { storedSize ?? entry.size }

    func append(to out: inout [UInt8]) {
        var first = true
        func key(_ name: StaticString) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(UInt8(ascii: "\""))
            name.withUTF8Buffer { out.append(contentsOf: $0) }
            out.append(UInt8(ascii: "\""))
            out.append(UInt8(ascii: ":"))
        }
        func bytes(_ text: [UInt8], _ plain: StaticString, _ encoded: StaticString) {
            if CanonicalJSON.isValidUTF8(text) {
                key(plain)
                CanonicalJSON.appendString(utf8: text, to: &out)
            } else {
                key(encoded)
                out.append(UInt8(ascii: "\""))
                Base64.encode(text, to: &out)
                out.append(UInt8(ascii: "\""))
            }
        }
        out.append(UInt8(ascii: "{"))
        if let blob {
            key("blob")
            CanonicalJSON.appendString(blob.description, to: &out)
        }
        if changed {
            key("changed")
            out.append(contentsOf: Array("true".utf8))
        }
        key("mode")
        CanonicalJSON.appendInteger(Int64(entry.mode), to: &out)
        key("mtime_ns")
        CanonicalJSON.appendInteger(entry.mtimeNanoseconds, to: &out)
        if let location {
            key("offset")
            CanonicalJSON.appendInteger(location.offset, to: &out)
            key("pack")
            CanonicalJSON.appendInteger(Int64(location.pack), to: &out)
        }
        bytes(entry.path, "path", "path_bytes")
        if entry.kind == .file {
            key("size")
            CanonicalJSON.appendInteger(size, to: &out)
        }
        if let target = entry.target { bytes(target, "target", "target_bytes") }
        key("type")
        CanonicalJSON.appendString(entry.kind.rawValue, to: &out)
        out.append(UInt8(ascii: "}"))
    }
}
