import PFModel

/// One entry of the world tree index, written straight to canonical JSON: its members are
/// appended in byte order of their keys (`blob`, `mode`, `mtime_ns`, `offset`, `pack`, `path`,
/// `size`, `target`, `type`), which is what ``CanonicalJSON`` would write for the same object.
struct IndexRecord {
    let entry: TreeEntry
    /// The blob of a file stored on its own.
    var blob: Digest?
    /// The pack and offset of a file stored in a pack.
    var location: (pack: Int, offset: Int64)?

    init(entry: TreeEntry) {
        self.entry = entry
    }

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
        out.append(UInt8(ascii: "{"))
        if let blob {
            key("blob")
            CanonicalJSON.appendString(blob.description, to: &out)
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
        key("path")
        CanonicalJSON.appendString(entry.path, to: &out)
        if entry.kind == .file {
            key("size")
            CanonicalJSON.appendInteger(entry.size, to: &out)
        }
        if let target = entry.target {
            key("target")
            CanonicalJSON.appendString(target, to: &out)
        }
        key("type")
        CanonicalJSON.appendString(entry.kind.rawValue, to: &out)
        out.append(UInt8(ascii: "}"))
    }
}
