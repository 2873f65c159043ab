import PFModel
import PFPluginKit

/// A paged KV-cache dump on disk (docs/kv-cache-dump.md): `meta.json`, `pages.bin` and
/// `sequences.jsonl`, read and checked.
struct KVDump {
    struct Sequence {
        let id: String
        let tokens: [UInt32]
        /// Slots in `pages.bin`, one per `tokens_per_page` tokens (the last may be partly filled).
        let slots: [Int]
    }

    let directory: String
    let modelFingerprint: String
    let dtype: String
    let tokensPerPage: Int
    let numLayers: Int
    let numHeads: Int
    let headDim: Int
    let pageBytes: Int
    let slotCount: Int
    let sequences: [Sequence]

    static let dtypeSizes = ["f16": 2, "bf16": 2, "f32": 4, "fp8": 1, "f8_e4m3": 1, "f8_e5m2": 1]

    /// Reads and checks the dump in `directory`: `meta.json`, then the size of `pages.bin`, then
    /// `sequences.jsonl`, each error naming the file (and line).
    init(directory: String, host: PluginHost) throws(PluginError) {
        let metaPath = directory + "/meta.json"
        let data: [UInt8]
        do { data = try ReadableFile.contents(of: metaPath) } catch {
            throw .io("\(error.message) (cache.path must be a KV-cache dump directory)")
        }
        let pagesPath = directory + "/pages.bin"
        try self.init(
            directory: directory, meta: data,
            pagesSize: { () throws(PluginError) -> Int64 in
                // Opened (O_NOFOLLOW, regular files only) rather than stat'ed, so the error says why.
                let size = try ReadableFile(path: pagesPath).size
                return size
            },
            sequences: { () throws(PluginError) in try LineReader(path: directory + "/sequences.jsonl") },
            checkCancelled: { () throws(PluginError) in try host.checkCancelled() })
    }

    /// Checks a dump given as the bytes of `meta.json`, the size of `pages.bin` and a reader of
    /// `sequences.jsonl` (each asked for only once what comes before it is checked, so errors come
    /// in the order of the files); errors name the files as in `directory`. For the plugin and for
    /// fuzzing, which has bytes and no directory.
    init(directory: String, meta data: [UInt8], pagesSize: () throws(PluginError) -> Int64,
         sequences openSequences: () throws(PluginError) -> LineReader, checkCancelled: () throws(PluginError) -> Void) throws(PluginError) {
        self.directory = directory
        let metaPath = directory + "/meta.json"
        let parsed: AnyJSON
        do { parsed = try AnyJSON.parse(data) } catch {
            throw .invalid("\(metaPath): \(error)")
        }
        guard let meta = parsed.objectValue else {
            throw .invalid("\(metaPath): not a JSON object")
        }
        func integer(_ key: String) throws(PluginError) -> Int {
            guard let value = meta[key]?.integerValue, value > 0, value <= Int64(Int32.max) else {
                throw .invalid("\(metaPath): '\(key)' must be a positive integer")
            }
            return Int(value)
        }
        guard meta["format"]?.stringValue == "pfhost-kv-dump", meta["version"]?.integerValue == 1 else {
            throw .invalid("\(metaPath): not a pfhost-kv-dump version 1 (format and version fields)")
        }
        guard let fingerprint = meta["model_fingerprint"]?.stringValue, !fingerprint.isEmpty else {
            throw .invalid("\(metaPath): 'model_fingerprint' must be a non-empty string")
        }
        guard let dtype = meta["dtype"]?.stringValue, let elementSize = Self.dtypeSizes[dtype] else {
            throw .invalid("\(metaPath): 'dtype' must be one of \(Self.dtypeSizes.keys.sorted().joined(separator: ", "))")
        }
        modelFingerprint = fingerprint
        self.dtype = dtype
        tokensPerPage = try integer("tokens_per_page")
        numLayers = try integer("num_layers")
        numHeads = try integer("num_heads")
        headDim = try integer("head_dim")
        // K and V for every layer and head, tokens_per_page tokens of head_dim elements each. Each
        // factor fits 31 bits; their product need not fit 64 (and trapping would take pfhost down).
        var pageBytes = 2 * elementSize
        for factor in [numLayers, numHeads, tokensPerPage, headDim] {
            let (product, overflow) = pageBytes.multipliedReportingOverflow(by: factor)
            guard !overflow else {
                throw .invalid("\(metaPath): a page of 2 × num_layers × num_heads × tokens_per_page × head_dim × \(elementSize) bytes does not fit 64 bits")
            }
            pageBytes = product
        }
        self.pageBytes = pageBytes

        let pagesPath = directory + "/pages.bin"
        let slotCount = try Self.slotCount(of: try pagesSize(), path: pagesPath, pageBytes: pageBytes)
        self.slotCount = slotCount
        let tokensPerPage = self.tokensPerPage

        let sequencesPath = directory + "/sequences.jsonl"
        var reader = try openSequences()
        var sequences: [Sequence] = []
        var seen: [String: Int] = [:]
        while let line = try reader.next() {
            try checkCancelled()
            // Strict JSON: ids are strings and tokens and slots integers, never floating point.
            let object: [String: JSONValue]
            do {
                guard let parsed = try JSONParser.parse(line.bytes).objectValue else {
                    throw PluginError.invalid("\(sequencesPath): line \(line.number) is not a JSON object")
                }
                object = parsed
            } catch let error as JSONParseError {
                // A line holds no newline: the column is the byte offset within it, from 1.
                throw .invalid("\(sequencesPath): line \(line.number), column \(error.offset + 1): \(error.message)")
            } catch let error as PluginError {
                throw error
            } catch {
                throw .invalid("\(sequencesPath): line \(line.number): \(error)")
            }
            guard let id = object["id"]?.stringValue else {
                throw .invalid("\(sequencesPath): line \(line.number): missing or non-string 'id'")
            }
            if let earlier = seen.updateValue(line.number, forKey: id) {
                throw .invalid("\(sequencesPath): line \(line.number): sequence id '\(id)' was already used on line \(earlier)")
            }
            guard let tokens = Self.integers(object["tokens"], in: 0...Int64(UInt32.max)) else {
                throw .invalid("\(sequencesPath): line \(line.number): 'tokens' must be an array of token ids (0 to 2^32-1)")
            }
            guard let slots = Self.integers(object["pages"], in: 0...Int64(Int32.max)) else {
                throw .invalid("\(sequencesPath): line \(line.number): 'pages' must be an array of page slots")
            }
            let needed = (tokens.count + tokensPerPage - 1) / tokensPerPage
            guard slots.count == needed else {
                throw .invalid("\(sequencesPath): line \(line.number): \(tokens.count) tokens need \(needed) pages of \(tokensPerPage), the page table has \(slots.count)")
            }
            if let bad = slots.first(where: { $0 >= Int64(slotCount) }) {
                throw .invalid("\(sequencesPath): line \(line.number): page slot \(bad) is outside pages.bin (\(slotCount) pages)")
            }
            sequences.append(Sequence(id: id, tokens: tokens.map { UInt32($0) }, slots: slots.map { Int($0) }))
        }
        self.sequences = sequences.sorted { $0.id < $1.id }
    }

    /// How many whole pages a `pages.bin` of `size` bytes holds; refused when it ends in a part page.
    static func slotCount(of size: Int64, path: String, pageBytes: Int) throws(PluginError) -> Int {
        guard size % Int64(pageBytes) == 0 else {
            throw .invalid("\(path): \(size) bytes is not a whole number of \(pageBytes)-byte pages (truncated?)")
        }
        return Int(size / Int64(pageBytes))
    }

    /// Checks that page `slot` lies within a `pages.bin` of `count` pages.
    static func checkSlot(_ slot: Int, within count: Int, path: String) throws(PluginError) {
        guard slot < count else {
            throw .invalid("\(path): page slot \(slot) is outside pages.bin (\(count) pages; truncated?)")
        }
    }

    /// The integers of a JSON array, when every element is an integer in `range`.
    static func integers(_ value: JSONValue?, in range: ClosedRange<Int64>) -> [Int64]? {
        guard case .array(let items)? = value else { return nil }
        var result: [Int64] = []
        result.reserveCapacity(items.count)
        for item in items {
            guard case .int(let number) = item, range.contains(number) else { return nil }
            result.append(number)
        }
        return result
    }

    /// The chained key of every page of `sequence`, in order.
    ///
    /// As in vLLM's prefix caching, a page's key commits to all tokens before it:
    /// `key(0) = SHA-256("pfhost-kv-v1\n" + model_fingerprint)`, and for page i,
    /// `key(i+1) = SHA-256(hex(key(i)) + the page's token ids as little-endian uint32)`.
    func pageKeys(of sequence: Sequence) -> [Digest] {
        var previous = Digest.of(Array("pfhost-kv-v1\n\(modelFingerprint)".utf8))
        var keys: [Digest] = []
        keys.reserveCapacity(sequence.slots.count)
        for page in 0..<sequence.slots.count {
            let hasher = SHA256Hasher()
            hasher.update(Array(previous.hex.utf8))
            let end = min(sequence.tokens.count, (page + 1) * tokensPerPage)
            var bytes: [UInt8] = []
            bytes.reserveCapacity((end - page * tokensPerPage) * 4)
            for token in sequence.tokens[(page * tokensPerPage)..<end] {
                withUnsafeBytes(of: token.littleEndian) { bytes.append(contentsOf: $0) }
            }
            hasher.update(bytes)
            previous = hasher.finalize()
            keys.append(previous)
        }
        return keys
    }
}
