import PFModel
import PFPluginKit

/// Restores the cache layer as a KV-cache dump (docs/kv-cache-dump.md) in `TARGET/cache/`, the
/// form the capture reads, and sets `cache.path` to it:
///
/// - `pages.bin`: every distinct page once, in the index's page order (slot i is the index's page
///   i), copied from the packs (runs of pages that lie back to back in a pack in one copy);
/// - `sequences.jsonl`: one canonical JSON line per sequence, in the index's order, its tokens and
///   its page table as slots;
/// - `meta.json`: the geometry and model fingerprint from the layer.
///
/// A capture of that dump gives the same page keys, the same packs and the same index: the pages
/// are defined by their tokens, and packs are cut by keys. A hosted cache restores no file; it is
/// reported and `cache.hosted=true` goes to `pfhost.json`.
struct CacheRestore {
    let host: RestoreHost

    func run() throws(PluginError) {
        let layer = try host.layer(CacheLayer.self)
        let content = layer.content
        if content.isHosted {
            try host.setRestoredConfig("hosted", "true")
            if content.modelFingerprint != "hosted" { try host.setRestoredConfig("model_fingerprint", content.modelFingerprint) }
            host.report("hosted", "the KV cache lives with the model's provider; nothing to restore")
            return
        }
        guard let indexDigest = content.index, let dtype = content.dtype, let tokensPerPage = content.tokensPerPage,
              let numLayers = content.numLayers, let numHeads = content.numHeads, let headDim = content.headDim,
              let pageBytes = content.pageBytes, pageBytes > 0 else {
            throw .invalid("the cache layer has no index or no page geometry, and is not hosted")
        }
        let index = try readIndex(indexDigest)
        let packSizes = Dictionary(layer.blobs.map { ($0.digest, $0.size) }, uniquingKeysWith: { first, _ in first })
        guard index["format"]?.stringValue == "pfhost-kv-index", index["version"] == .int(1),
              index["page_bytes"] == .int(pageBytes),
              case .array(let packItems)? = index["packs"], case .array(let pages)? = index["pages"],
              case .array(let sequences)? = index["sequences"] else {
            throw .invalid("cache index \(indexDigest): not a pfhost-kv-index version 1 with \(pageBytes)-byte pages")
        }
        var packs: [Digest] = []
        for item in packItems {
            guard let text = item.stringValue, let digest = try? Digest(parsing: text), packSizes[digest] != nil else {
                throw .invalid("cache index \(indexDigest): pack \(item) is not one of the layer's blobs")
            }
            packs.append(digest)
        }

        // pages.bin: slot i holds the index's page i. Pages a capture placed one after another in a
        // pack are copied as one run.
        let pagesFile = try host.createFile(Array("pages.bin".utf8), mode: 0o644)
        var slots: [String: Int] = [:]
        var openPacks: [Int: ReadableFile] = [:]
        var run: (pack: Int, offset: Int64, count: Int64)?
        func copyRun() throws(PluginError) {
            guard let current = run else { return }
            let source: ReadableFile
            if let known = openPacks[current.pack] { source = known } else {
                source = try host.openBlob(packs[current.pack])
                openPacks = [current.pack: source]
            }
            try pagesFile.copy(from: source, at: current.offset, count: current.count)
            run = nil
        }
        for (slot, page) in pages.enumerated() {
            if slot % 4096 == 0 { try host.checkCancelled() }
            guard let key = page["key"]?.stringValue, case .int(let pack)? = page["pack"], case .int(let offset)? = page["offset"],
                  pack >= 0, pack < packs.count, offset >= 0, offset % pageBytes == 0,
                  offset <= packSizes[packs[Int(pack)]]! - pageBytes else {
                throw .invalid("cache index \(indexDigest): page \(slot) (\(page)) is not a page of one of its packs")
            }
            guard slots.updateValue(slot, forKey: key) == nil else {
                throw .invalid("cache index \(indexDigest): page key \(key) is listed twice")
            }
            if let current = run, current.pack == Int(pack), current.offset + current.count == offset {
                run = (current.pack, current.offset, current.count + pageBytes)
            } else {
                try copyRun()
                run = (Int(pack), offset, pageBytes)
            }
        }
        try copyRun()
        try pagesFile.close()

        // sequences.jsonl: the page tables as slots of the pages.bin just written.
        let sequencesFile = try host.createFile(Array("sequences.jsonl".utf8), mode: 0o644)
        var line: [UInt8] = []
        for sequence in sequences {
            guard let id = sequence["id"]?.stringValue, case .array(let keys)? = sequence["pages"],
                  case .array(let tokens)? = sequence["tokens"] else {
                throw .invalid("cache index \(indexDigest): a sequence lacks its id, pages or tokens")
            }
            var table: [JSONValue] = []
            table.reserveCapacity(keys.count)
            for key in keys {
                guard let text = key.stringValue, let slot = slots[text] else {
                    throw .invalid("cache index \(indexDigest): sequence '\(id)' names page \(key), which is not in the index")
                }
                table.append(.int(Int64(slot)))
            }
            line.removeAll(keepingCapacity: true)
            line += CanonicalJSON.encode(.object(["id": .string(id), "pages": .array(table), "tokens": .array(tokens)]))
            line.append(0x0a)
            try sequencesFile.write(line)
        }
        try sequencesFile.close()

        let meta = JSONValue.object([
            "format": .string("pfhost-kv-dump"), "version": .int(1), "model_fingerprint": .string(content.modelFingerprint),
            "dtype": .string(dtype), "tokens_per_page": .int(Int64(tokensPerPage)), "num_layers": .int(Int64(numLayers)),
            "num_heads": .int(Int64(numHeads)), "head_dim": .int(Int64(headDim)),
        ])
        let metaFile = try host.createFile(Array("meta.json".utf8), mode: 0o644)
        try metaFile.write(CanonicalJSON.encode(meta) + [0x0a])
        try metaFile.close()
        try host.setRestoredConfig("path", ".", isPath: true)
        host.progress(done: UInt64(pages.count), total: UInt64(pages.count))
    }

    /// The index blob, parsed.
    private func readIndex(_ digest: Digest) throws(PluginError) -> JSONValue {
        let file = try host.openBlob(digest)
        let bytes = try file.read(upTo: Int(clamping: file.size))
        do { return try JSONParser.parse(bytes) } catch {
            throw .invalid("cache index \(digest): not valid JSON: \(error)")
        }
    }
}
