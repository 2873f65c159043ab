import PFModel
import PFPluginKit
import PFSystem
#if canImport(Glibc)
import Glibc
#endif

/// Captures the cache layer from a paged KV-cache dump (`cache.path`).
///
/// Distinct pages (by chained key) are packed into a few pack blobs plus one index blob, never
/// one blob per page. Packs are cut by content: walking each sequence's pages in order (sequences
/// sorted by id, pages already placed skipped), a pack ends after a page whose key's second hex
/// digit is `0` (one page in 16 on average), after 64 pages, or at the end of a sequence. So an
/// unchanged run of pages forms the same pack in the next snapshot, and a pack the parent
/// snapshot already holds (same last key and page count) is referenced without reading a byte.
///
/// An agent whose KV cache lives with a hosted model's provider sets `cache.hosted=true` instead of
/// `cache.path` (and optionally `cache.model_fingerprint`): the layer says so and stores nothing.
struct CacheCapture {
    let host: PluginHost
    static let maximumPackPages = 64

    func run() throws(PluginError) {
        if try host.flag("hosted", default: false) {
            guard host.config("path") == nil else {
                throw .invalid("cache.path and cache.hosted=true are both set: set path for a KV-cache dump, or hosted=true when the provider keeps the cache")
            }
            let fingerprint = host.config("model_fingerprint").flatMap { $0.isEmpty ? nil : $0 } ?? "hosted"
            try host.setLayer(CacheLayer(blobs: [], content: .hosted(modelFingerprint: fingerprint)))
            return
        }
        let directory = try host.requiredConfig("path", meaning: "a paged KV-cache dump directory; or set hosted=true when the model's provider keeps the cache")
        // Its files are opened O_NOFOLLOW; the directory itself must not be a link either.
        if let info = try? SystemCalls().linkStatus(directory), info.st_mode & S_IFMT == S_IFLNK {
            throw .invalid("\(directory) is a symlink: pfhost does not follow a symlink at cache.path (an agent could point it anywhere); set the path of the directory itself")
        }
        let pagesPath = directory + "/pages.bin"
        // The layer is a function of meta.json and sequences.jsonl (pages are identified by their
        // tokens), so when both are byte for byte what the parent captured, so is the layer, but
        // only if pages.bin still holds every page the parent's capture checked was there. Reuse
        // may skip hashing, never checking: the shortcut also needs pages.bin's stat (size, mtime,
        // ctime, inode) to be what the parent's capture recorded, one stat and no read; anything
        // else, or a parent without the record, takes the full capture, which checks it all.
        // The parent's layer goes back as the host gave it, decoding nothing: what it records is
        // what it recorded then, whatever that is (a crafted parent's nonsense stays its own, and
        // `pfhost verify` reports it in both snapshots).
        let input = try inputDigest(directory)
        if let annotations = host.parentAnnotations(), annotations[Self.inputAnnotation] == input,
           let recorded = annotations[Self.pagesAnnotation], let now = FileStatRecord.of(path: pagesPath), recorded == now {
            host.log(.debug, "meta.json and sequences.jsonl are the parent's and pages.bin's stat is unchanged: the parent's layer is reused")
            try host.setParentLayer()
            return
        }
        let dump = try KVDump(directory: directory, host: host)
        let reusable = reusablePacks(for: dump)

        let pages = try ReadableFile(path: pagesPath)
        let opened = pages.status
        // Reused packs are not read, so nothing else would notice a pages.bin that lost pages
        // since KVDump looked at it: check again on what was opened.
        let pagesCount = try KVDump.slotCount(of: Int64(opened.st_size), path: pagesPath, pageBytes: dump.pageBytes)

        var placed: [Digest: (pack: Int, offset: Int)] = [:]
        var packs: [CachePack] = []
        var blobs: [Descriptor] = []
        var pageOrder: [Digest] = []
        var sequences: [CacheSequence] = []
        var sequenceKeys: [[Digest]] = []
        var current: [(key: Digest, slot: Int)] = []
        var pagesReused = 0

        func closePack() throws(PluginError) {
            guard let last = current.last else { return }
            let number = packs.count
            let blob: Descriptor
            if let known = reusable["\(last.key.hex)/\(current.count)"] {
                for page in current { try KVDump.checkSlot(page.slot, within: pagesCount, path: pagesPath) }
                blob = known
                pagesReused += current.count
            } else {
                blob = try writePack(current.map(\.slot), file: pages, pageBytes: dump.pageBytes)
            }
            for (index, page) in current.enumerated() {
                // Pages may be as large as meta.json says (up to 2^63 bytes): offsets are checked.
                let (offset, overflow) = index.multipliedReportingOverflow(by: dump.pageBytes)
                guard !overflow else {
                    throw .invalid("\(directory)/meta.json: pages of \(dump.pageBytes) bytes are too large to pack (offsets beyond 64 bits)")
                }
                placed[page.key] = (number, offset)
            }
            packs.append(CachePack(digest: blob.digest, lastKey: last.key.hex, pageCount: current.count))
            blobs.append(blob)
            current = []
            host.progress(done: UInt64(placed.count), total: UInt64(dump.slotCount))
        }

        for sequence in dump.sequences {
            try host.checkCancelled()
            let keys = dump.pageKeys(of: sequence)
            for (page, key) in keys.enumerated() where placed[key] == nil && !current.contains(where: { $0.key == key }) {
                current.append((key, sequence.slots[page]))
                pageOrder.append(key)
                if key.hex.utf8.dropFirst().first == UInt8(ascii: "0") || current.count == Self.maximumPackPages {
                    try closePack()
                }
            }
            try closePack()
            sequences.append(CacheSequence(id: sequence.id, tokenCount: sequence.tokens.count, pageCount: keys.count))
            sequenceKeys.append(keys)
        }

        // The index, written as canonical JSON piece by piece (keys in byte order, as
        // ``CanonicalJSON`` would sort them), never built as one value in memory.
        let index = try host.openBlob(mediaType: "application/vnd.pfhost.kv-index.v1+json")
        var text: [UInt8] = []
        func put(_ literal: StaticString) { literal.withUTF8Buffer { text.append(contentsOf: $0) } }
        func putHex(_ key: Digest) {
            text.append(UInt8(ascii: "\""))
            text.append(contentsOf: key.hex.utf8)
            text.append(UInt8(ascii: "\""))
        }
        func flush(unless small: Bool = false) throws(PluginError) {
            guard !(small && text.count < PluginBlobWriter.chunkSize) else { return }
            try index.write(text)
            text.removeAll(keepingCapacity: true)
        }
        put(#"{"format":"pfhost-kv-index","packs":"#)
        text.append(contentsOf: CanonicalJSON.encode(.array(packs.map { .string($0.digest.description) })))
        put(#","page_bytes":"#)
        CanonicalJSON.appendInteger(Int64(dump.pageBytes), to: &text)
        put(#","pages":["#)
        for (number, key) in pageOrder.enumerated() {
            let location = placed[key]!
            if number > 0 { put(",") }
            put(#"{"key":"#)
            putHex(key)
            put(#","offset":"#)
            CanonicalJSON.appendInteger(Int64(location.offset), to: &text)
            put(#","pack":"#)
            CanonicalJSON.appendInteger(Int64(location.pack), to: &text)
            put("}")
            try flush(unless: true)
        }
        put(#"],"sequences":["#)
        for (number, sequence) in dump.sequences.enumerated() {
            put(number > 0 ? #",{"id":"# : #"{"id":"#)
            CanonicalJSON.appendString(sequence.id, to: &text)
            put(#","pages":["#)
            for (page, key) in sequenceKeys[number].enumerated() {
                if page > 0 { put(",") }
                putHex(key)
            }
            put(#"],"tokens":["#)
            for (position, token) in sequence.tokens.enumerated() {
                if position > 0 { put(",") }
                CanonicalJSON.appendInteger(Int64(token), to: &text)
                if position % 4096 == 4095 { try flush(unless: true) }
            }
            put("]}")
            try flush(unless: true)
        }
        put(#"],"version":1}"#)
        try flush()
        let indexBlob = try index.commit()
        host.log(.debug, "\(pageOrder.count) distinct pages in \(packs.count) packs; \(pagesReused) pages reused from the parent")
        var annotations = [Self.inputAnnotation: input]
        // Recorded only when pages.bin did not change while it was captured, so that the record
        // describes the pages this layer was checked against.
        if let closing = pages.currentStatus, let before = FileStatRecord.of(opened), FileStatRecord.of(closing) == before {
            annotations[Self.pagesAnnotation] = before
        }
        var unique = Set<Digest>()
        try host.setLayer(CacheLayer(
            blobs: ([indexBlob] + blobs).filter { unique.insert($0.digest).inserted },
            annotations: annotations,
            content: CacheContent(
                modelFingerprint: dump.modelFingerprint, dtype: dump.dtype, tokensPerPage: dump.tokensPerPage,
                numLayers: dump.numLayers, numHeads: dump.numHeads, headDim: dump.headDim, pageBytes: Int64(dump.pageBytes),
                pageCount: pageOrder.count, tokenCount: dump.sequences.reduce(0) { $0 + $1.tokens.count },
                sequences: sequences, index: indexBlob.digest, packs: packs)))
    }

    /// The annotation recording ``inputDigest(_:)`` of the dump a layer was captured from.
    static let inputAnnotation = "dev.pfhost.cache.input"

    /// The annotation recording the ``FileStatRecord`` of the `pages.bin` a layer was captured from.
    static let pagesAnnotation = "dev.pfhost.cache.pages_stat"

    /// SHA-256 (bare hex) of `meta.json`, a NUL, and `sequences.jsonl`.
    private func inputDigest(_ directory: String) throws(PluginError) -> String {
        let hasher = SHA256Hasher()
        for (index, name) in ["meta.json", "sequences.jsonl"].enumerated() {
            let path = directory + "/" + name
            let file: ReadableFile
            do { file = try ReadableFile(path: path) } catch {
                throw .io("\(error.message) (cache.path must be a KV-cache dump directory)")
            }
            if index > 0 { hasher.update([0]) }
            while case let chunk = try file.read(upTo: 1 << 20), !chunk.isEmpty { hasher.update(chunk) }
        }
        return hasher.finalize().hex
    }

    /// The parent's packs by "last key/page count", when its pages have this dump's geometry.
    private func reusablePacks(for dump: KVDump) -> [String: Descriptor] {
        guard let parent = host.parentLayer(CacheLayer.self),
              parent.content.modelFingerprint == dump.modelFingerprint, parent.content.dtype == dump.dtype,
              parent.content.tokensPerPage == dump.tokensPerPage, parent.content.pageBytes == Int64(dump.pageBytes)
        else { return [:] }
        let sizes = Dictionary(parent.blobs.map { ($0.digest, $0) }, uniquingKeysWith: { first, _ in first })
        var packs: [String: Descriptor] = [:]
        for pack in parent.content.packs {
            if let blob = sizes[pack.digest] { packs["\(pack.lastKey)/\(pack.pageCount)"] = blob }
        }
        return packs
    }

    /// Streams the pages in `slots` from `pages.bin` into one pack blob, at most 4 MiB at a time:
    /// a page is as large as meta.json says, and memory must not be.
    private func writePack(_ slots: [Int], file: ReadableFile, pageBytes: Int) throws(PluginError) -> Descriptor {
        let writer = try host.openBlob(mediaType: "application/vnd.pfhost.kv-pack.v1")
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: min(pageBytes, Self.copyChunk), alignment: 16)
        defer { buffer.deallocate() }
        for slot in slots {
            // slot * pageBytes fits: slots are below the page count of a file whose size is an Int64.
            let start = Int64(slot) * Int64(pageBytes)
            var copied = 0
            while copied < pageBytes {
                try host.checkCancelled()
                let piece = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(buffer.count, pageBytes - copied)])
                guard try file.read(into: piece, at: start + Int64(copied)) == piece.count else {
                    throw .io("\(file.path): reading page slot \(slot) failed: unexpected end of file")
                }
                try writer.write(UnsafeRawBufferPointer(piece))
                copied += piece.count
            }
        }
        return try writer.commit()
    }

    /// The most of a page held in memory at once.
    static let copyChunk = 4 << 20
}
