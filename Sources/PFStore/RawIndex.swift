import PFModel

/// `index.json` as pfhost writes it (canonical JSON), held as each manifest entry's bytes with
/// only its digest and tag read out.
///
/// A commit edits the one or two entries it touches and copies the others byte for byte, so
/// adding a snapshot to a store of thousands costs one scan and one copy of the index rather than
/// parsing, decoding and encoding every entry. An `index.json` in any other form (written by
/// another tool, or damaged) is not raw-editable: ``init(_:)`` returns nil and callers take the
/// decoded path, which also reports what is wrong with it.
struct RawIndex {
    /// One manifest entry: its canonical bytes (a slice of the file's, until edited), digest and tag.
    struct Entry {
        var bytes: ArraySlice<UInt8>
        let digest: Digest
        let refName: String?
    }

    var entries: [Entry]

    static let head = Array(#"{"manifests":["#.utf8)
    static let tail = Array(#"],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2}"#.utf8)

    /// Splits canonical `index.json` bytes into entries; nil for anything else.
    init?(_ bytes: [UInt8]) {
        guard bytes.count >= Self.head.count + Self.tail.count,
              bytes.starts(with: Self.head), bytes.suffix(Self.tail.count).elementsEqual(Self.tail) else { return nil }
        let found: [(Range<Int>, Digest, String?)]? = bytes.withUnsafeBufferPointer { buffer in
            EntryScanner(bytes: buffer, end: buffer.count - Self.tail.count).entries(from: Self.head.count)
        }
        guard let found else { return nil }
        entries = found.map { Entry(bytes: bytes[$0.0], digest: $0.1, refName: $0.2) }
    }

    /// The canonical bytes of the index.
    func encoded() -> [UInt8] {
        var bytes = Self.head
        bytes.reserveCapacity(entries.reduce(Self.head.count + Self.tail.count) { $0 + $1.bytes.count + 1 })
        for (position, entry) in entries.enumerated() {
            if position > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: entry.bytes)
        }
        bytes.append(contentsOf: Self.tail)
        return bytes
    }

    /// Applies ``IndexEdit/plan(adding:tag:to:)``: the entries it removes go, the ones it untags
    /// lose their tag (decoded and encoded again, one each), the new entry is appended.
    ///
    /// - Returns: false, changing nothing, when an entry to untag does not decode as a descriptor
    ///   (a damaged index: the decoded path then reports what is wrong with it).
    mutating func add(_ entry: OCIDescriptor, tag: String?) -> Bool {
        let plan = IndexEdit.plan(adding: entry, tag: tag, to: entries.map { ($0.digest, $0.refName) })
        var untagged: [Int: Entry] = [:]
        for position in plan.untag {
            guard var descriptor = try? CanonicalJSON.decode(OCIDescriptor.self, from: Array(entries[position].bytes)),
                  let bytes = try? CanonicalJSON.encode({ IndexEdit.untag(&descriptor); return descriptor }()) else { return false }
            untagged[position] = Entry(bytes: bytes[...], digest: descriptor.digest, refName: nil)
        }
        for (position, entry) in untagged { entries[position] = entry }
        entries = entries.enumerated().filter { !plan.remove.contains($0.offset) }.map(\.element)
        if let added = plan.append {
            entries.append(Entry(bytes: try! CanonicalJSON.encode(added)[...], digest: added.digest, refName: added.refName))
        }
        return true
    }
}

/// Finds the entries of the manifests array in canonical JSON: each is an object whose members
/// are skipped except `digest` and the `org.opencontainers.image.ref.name` annotation. Any byte
/// canonical JSON would not have (white space, an escape it would not write, an escape in those
/// two values) ends the scan with nil, and so does nesting deeper than ``JSONParser/maximumDepth`` (counted as the parser
/// counts, the index object being level 1), so that the decoded path reports it with its offset
/// instead of the scan recursing until the stack runs out.
private struct EntryScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    /// Where the manifests array's contents end.
    let end: Int
    /// The nesting level of each entry object: in the manifests array, in the index object.
    static let entryDepth = 3

    static let digestKey = Array("digest".utf8)
    static let annotationsKey = Array("annotations".utf8)
    static let refNameKey = Array(AnnotationKey.refName.utf8)

    func entries(from start: Int) -> [(Range<Int>, Digest, String?)]? {
        var entries: [(Range<Int>, Digest, String?)] = []
        var at = start
        while at < end {
            if !entries.isEmpty {
                guard bytes[at] == UInt8(ascii: ",") else { return nil }
                at += 1
            }
            guard let (entry, next) = entry(at: at) else { return nil }
            entries.append(entry)
            at = next
        }
        return at == end ? entries : nil
    }

    /// The entry object starting at `start` (its range, digest and tag), and the index after it.
    private func entry(at start: Int) -> ((Range<Int>, Digest, String?), Int)? {
        var digest: Digest?
        var refName: String?
        guard let end = members(at: start, depth: Self.entryDepth, { key, value, valueEnd in
            if key.elementsEqual(Self.digestKey) {
                guard let text = plainString(value, valueEnd), let parsed = try? Digest(parsing: text) else { return false }
                digest = parsed
            } else if key.elementsEqual(Self.annotationsKey) {
                guard members(at: value, depth: Self.entryDepth + 1, { key, value, valueEnd in
                    if key.elementsEqual(Self.refNameKey) {
                        guard let text = plainString(value, valueEnd) else { return false }
                        refName = text
                    }
                    return true
                }) != nil else { return false }
            }
            return true
        }), let digest else { return nil }
        return ((start..<end, digest, refName), end)
    }

    /// Walks the object at `start`, nested `depth` levels deep, calling `body` with each key's
    /// bytes and its value's start and end; the index after the object, or nil when it is not
    /// canonical-looking JSON, nests too deeply, or `body` returns false.
    private func members(at start: Int, depth: Int, _ body: (UnsafeBufferPointer<UInt8>.SubSequence, Int, Int) -> Bool) -> Int? {
        guard start < end, bytes[start] == UInt8(ascii: "{"), depth <= JSONParser.maximumDepth else { return nil }
        var at = start + 1
        if at < end, bytes[at] == UInt8(ascii: "}") { return at + 1 }
        while true {
            guard let keyEnd = skipString(at) else { return nil }
            let key = bytes[(at + 1)..<(keyEnd - 1)]
            guard keyEnd < end, bytes[keyEnd] == UInt8(ascii: ":"), let valueEnd = skipValue(keyEnd + 1, depth: depth + 1),
                  body(key, keyEnd + 1, valueEnd) else { return nil }
            at = valueEnd
            guard at < end else { return nil }
            if bytes[at] == UInt8(ascii: "}") { return at + 1 }
            guard bytes[at] == UInt8(ascii: ",") else { return nil }
            at += 1
        }
    }

    /// The text of the string value from `start` to `end` when it has no escapes and is valid
    /// UTF-8 (never a repaired string the decoded index would not hold).
    private func plainString(_ start: Int, _ end: Int) -> String? {
        guard bytes[start] == UInt8(ascii: "\""), end - start >= 2 else { return nil }
        let inner = bytes[(start + 1)..<(end - 1)]
        guard !inner.contains(UInt8(ascii: "\\")) else { return nil }
        return String(validating: inner, as: UTF8.self)
    }

    /// The index after the string starting at `start`; nil when it holds an escape canonical
    /// JSON would not write (`\u0061`, `\/`, `\u0008`), so that raw bytes equal to a key the scan
    /// looks for are exactly the strings that decode to it: `"ref.n\u0061me"` must not be a tag
    /// the decoded index sees and the scan does not.
    private func skipString(_ start: Int) -> Int? {
        guard start < end, bytes[start] == UInt8(ascii: "\"") else { return nil }
        var at = start + 1
        while at < end {
            switch bytes[at] {
            case UInt8(ascii: "\""): return at + 1
            case UInt8(ascii: "\\"):
                guard let next = skipCanonicalEscape(at) else { return nil }
                at = next
            case 0..<0x20: return nil
            default: at += 1
            }
        }
        return nil
    }

    /// The index after the escape at `start` when it is one ``CanonicalJSON`` writes: `\"`, `\\`,
    /// `\b \f \n \r \t`, or `\u00xx` (lowercase hex) for any other control character.
    private func skipCanonicalEscape(_ start: Int) -> Int? {
        guard start + 1 < end else { return nil }
        switch bytes[start + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
             UInt8(ascii: "r"), UInt8(ascii: "t"):
            return start + 2
        case UInt8(ascii: "u"):
            guard start + 5 < end, bytes[start + 2] == UInt8(ascii: "0"), bytes[start + 3] == UInt8(ascii: "0") else { return nil }
            let high = bytes[start + 4], low = bytes[start + 5]
            guard high == UInt8(ascii: "0") || high == UInt8(ascii: "1") else { return nil }
            let lowValue: UInt8
            switch low {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): lowValue = low - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): lowValue = low - UInt8(ascii: "a") + 10
            default: return nil
            }
            let value = (high - UInt8(ascii: "0")) << 4 | lowValue
            // These have short escapes, which canonical JSON uses instead.
            guard ![0x08, 0x09, 0x0a, 0x0c, 0x0d].contains(value) else { return nil }
            return start + 6
        default:
            return nil
        }
    }

    /// The index after the value starting at `start` (any JSON value, without white space), an
    /// array or object there being `depth` levels deep.
    private func skipValue(_ start: Int, depth: Int) -> Int? {
        guard start < end else { return nil }
        switch bytes[start] {
        case UInt8(ascii: "\""):
            return skipString(start)
        case UInt8(ascii: "{"):
            return members(at: start, depth: depth) { _, _, _ in true }
        case UInt8(ascii: "["):
            guard depth <= JSONParser.maximumDepth else { return nil }
            var at = start + 1
            if at < end, bytes[at] == UInt8(ascii: "]") { return at + 1 }
            while true {
                guard let next = skipValue(at, depth: depth + 1), next < end else { return nil }
                if bytes[next] == UInt8(ascii: "]") { return next + 1 }
                guard bytes[next] == UInt8(ascii: ",") else { return nil }
                at = next + 1
            }
        default:
            // A number or a literal: up to the next delimiter.
            var at = start
            while at < end, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]")].contains(bytes[at]) {
                guard bytes[at] > 0x20 else { return nil }
                at += 1
            }
            return at > start ? at : nil
        }
    }
}
