import Foundation
import Testing
import PFModel
import PFStore

/// `pfhost diff` on snapshots whose blobs verify but say anything: entries outside their packs,
/// sizes that overflow, duplicate names and ids, lines far longer than diff reads, blobs of
/// another size than their descriptors. Each gives a note or an error, never a crash or a read beyond a blob.
@Suite("pfhost diff on hostile stores")
struct DiffHostileStoreTests {
    /// A store and a way to commit snapshots built from raw bytes.
    struct Store {
        let dir = TemporaryDirectory()
        var path: String { dir.file("store") }
        let store: SnapshotStore

        init() throws {
            store = try SnapshotStore.openOrCreate(at: dir.file("store"))
        }

        func blob(_ bytes: [UInt8]) throws -> Descriptor {
            let stored = try store.putBlob(bytes)
            return Descriptor(mediaType: "application/octet-stream", digest: stored.digest, size: stored.size)
        }

        func blob(_ text: String) throws -> Descriptor { try blob(Array(text.utf8)) }

        /// A snapshot whose world tree index, packs, ledger and sequences are the given ones.
        func commit(tree: String, packs: [Descriptor], ledger: [UInt8], sequences: [CacheSequence] = [],
                    parents: [Digest] = []) throws -> Digest {
            let plugin = PluginRef(id: "org.test.hostile", version: "1")
            let index = try blob(tree)
            let ledgerBlob = try blob(ledger)
            let trace = try blob("t\n")
            let cacheIndex = try blob(#"{"format":"pfhost-kv-index","version":1,"page_bytes":1,"packs":[],"pages":[],"sequences":[]}"#)
            let manifest = Manifest(
                agent: Agent(kind: "hostile", version: "1", fingerprint: ""),
                model: ModelLayer(plugin: plugin, blobs: [], content: ModelContent(name: "m", format: "safetensors", files: [
                    ModelFile(path: "same", digest: index.digest, size: 1), ModelFile(path: "same", digest: trace.digest, size: 2),
                ])),
                cache: CacheLayer(plugin: plugin, blobs: [cacheIndex], content: CacheContent(
                    modelFingerprint: "m", dtype: "f16", tokensPerPage: 16, numLayers: 1, numHeads: 1, headDim: 1, pageBytes: 1,
                    pageCount: 0, tokenCount: 0, sequences: sequences, index: cacheIndex.digest, packs: [])),
                world: WorldLayer(plugin: plugin, blobs: [index] + packs, content: WorldContent(
                    root: "w", tree: WorldTree(index: index.digest, entryCount: 0, totalBytes: 0),
                    processes: [WorldProcess(pid: 1, ppid: 0, cmdline: ["a"]), WorldProcess(pid: 1, ppid: 0, cmdline: ["b"])])),
                effects: EffectsLayer(plugin: plugin, blobs: [ledgerBlob], content: EffectsContent(
                    ledger: ledgerBlob.digest, entryCount: 1, head: nil, pendingCount: 0)),
                trace: TraceLayer(plugin: plugin, blobs: [trace], content: TraceContent(messages: trace.digest, messageCount: 1, lastMessageId: nil)),
                createdAt: "2027-01-15T08:00:00Z", parents: parents)
            return try store.commitSnapshot(manifest)
        }
    }

    static func tree(_ entries: [String], packs: [Descriptor]) -> String {
        #"{"entries":["# + entries.joined(separator: ",") + #"],"format":"pfhost-world-tree","packs":["#
            + packs.map { "\"\($0.digest)\"" }.joined(separator: ",") + #"],"version":1}"#
    }

    @Test("entries outside their packs and sizes that overflow are noted and reported modified; duplicate ids count once")
    func outsidePacks() throws {
        let s = try Store()
        let one = try s.blob("abcdef"), two = try s.blob("xy")
        let a = try s.commit(tree: Self.tree([
            #"{"mode":420,"mtime_ns":1,"offset":0,"pack":0,"path":"a","size":3,"type":"file"}"#,
            #"{"mode":420,"mtime_ns":1,"offset":1,"pack":0,"path":"huge","size":9223372036854775807,"type":"file"}"#,
        ], packs: [one]), packs: [one], ledger: Array("x\n".utf8),
            sequences: [CacheSequence(id: "s", tokenCount: 1, pageCount: 1), CacheSequence(id: "s", tokenCount: 2, pageCount: 1)])
        let b = try s.commit(tree: Self.tree([
            #"{"mode":420,"mtime_ns":1,"offset":5,"pack":0,"path":"a","size":3,"type":"file"}"#,
            #"{"mode":420,"mtime_ns":1,"offset":9223372036854775807,"pack":0,"path":"huge","size":9223372036854775807,"type":"file"}"#,
        ], packs: [two]), packs: [two], ledger: Array("x\ny\n".utf8))
        let output = try pfhost("diff", a.description, b.description, "--store", s.path)
        #expect(output.status == 0, "\(output)")
        #expect(output.stdout.contains("\n  note: B's entry a lies outside its pack \(two.digest)\n"), "\(output)")
        // Its size runs past the end of A's pack already (and B's offset past 2^63 - 1 with it): the first is named.
        #expect(output.stdout.contains("\n  note: A's entry huge lies outside its pack \(one.digest)\n"), "\(output)")
        #expect(output.stdout.contains("\n  ~ a  (content)\n  ~ huge  (content)\n"), "\(output)")
        #expect(output.stdout.contains("\n  - sequence s  (1 token, 1 page)\n"), "\(output)")
        #expect(output.stdout.contains("\n  + line 2: (not read: "), "\(output)")
    }

    @Test("a tree index listing a path twice, or a pack it does not have, is noted and its files left out")
    func badIndexes() throws {
        let s = try Store()
        let pack = try s.blob("abc")
        let a = try s.commit(tree: Self.tree([#"{"mode":420,"mtime_ns":1,"offset":0,"pack":0,"path":"a","size":3,"type":"file"}"#], packs: [pack]),
                             packs: [pack], ledger: [])
        let twice = try s.commit(tree: Self.tree([
            #"{"mode":420,"mtime_ns":1,"path":"a","type":"directory"}"#, #"{"mode":420,"mtime_ns":2,"path":"a","type":"directory"}"#,
        ], packs: []), packs: [], ledger: [])
        let output = try pfhost("diff", a.description, twice.description, "--json", "--store", s.path)
        #expect(output.status == 0, "\(output)")
        let world = try JSONParser.parse(Array(output.stdout.utf8.dropLast()))["layers"]?["world"]
        #expect(world?["notes"] == .array([.string("files not compared: B's tree index \(try s.store.snapshot(twice).manifest.world.content.tree.index) is not one this pfhost reads: entry 2 (a) is listed twice")]))
        #expect(world?["files"]?["added"] == .array([]) && world?["files"]?["removed"] == .array([]))
        let missingPack = try s.commit(tree: Self.tree([#"{"mode":420,"mtime_ns":1,"offset":0,"pack":7,"path":"a","size":3,"type":"file"}"#], packs: []),
                                       packs: [], ledger: [])
        let text = try pfhost("diff", a.description, missingPack.description, "--store", s.path)
        #expect(text.status == 0 && text.stdout.contains("entry 1 (a): pack 7 at offset 0 is not in the index's 0 packs"), "\(text)")
    }

    @Test("a ledger line longer than diff reads is compared by digest and listed without fields")
    func longLine() throws {
        let s = try Store()
        let long = [UInt8](repeating: UInt8(ascii: "z"), count: 3 << 20)
        let a = try s.commit(tree: Self.tree([], packs: []), packs: [], ledger: Array("x\n".utf8) + long + [10])
        let b = try s.commit(tree: Self.tree([], packs: []), packs: [], ledger: Array("x\n".utf8) + long + [10] + Array("{\"id\":\"fx-9\"}\n".utf8))
        let c = try s.commit(tree: Self.tree([], packs: []), packs: [], ledger: Array("x\n".utf8) + long.dropLast() + [UInt8(ascii: "y"), 10])
        let appended = try pfhost("diff", a.description, b.description, "--store", s.path)
        #expect(appended.stdout.contains("\neffects  1 entry appended (1 -> 1);"), "\(appended)")
        #expect(appended.stdout.contains("\n  + line 3: fx-9\n"), "\(appended)")
        let rewritten = try pfhost("diff", a.description, c.description, "--store", s.path)
        #expect(rewritten.stdout.contains("\neffects  history rewritten after entry 1: 1 entry removed, 1 entry added"), "\(rewritten)")
        #expect(rewritten.stdout.contains("\n  - line 2: (a line of 3145728 bytes, longer than diff reads)\n"), "\(rewritten)")
    }

    @Test("a blob of another size than its descriptor says is damage: exit 3, naming it")
    func sizeMismatch() throws {
        let s = try Store()
        let a = try s.commit(tree: Self.tree([], packs: []), packs: [], ledger: Array("x\n".utf8))
        let b = try s.commit(tree: Self.tree([], packs: []), packs: [], ledger: Array("y\n".utf8))
        let path = s.store.blobPath(Digest.of(Array("y\n".utf8)))
        try FileManager.default.removeItem(atPath: path)
        _ = FileManager.default.createFile(atPath: path, contents: Data("y\nand more\n".utf8))
        let output = try pfhost("diff", a.description, b.description, "--store", s.path)
        #expect(output.status == 3, "\(output)")
        #expect(output.stderr == "pfhost: error: \(path) is corrupt: size 11, its descriptor says 2 (run 'pfhost verify --all' to list every problem)\n")
    }

    @Test("diff REF whose parent the store does not hold (copied without its history): exit 4, naming the parent")
    func missingParent() throws {
        let s = try Store()
        let absent = Digest.of(Array("a snapshot elsewhere".utf8))
        let child = try s.commit(tree: Self.tree([], packs: []), packs: [], ledger: [], parents: [absent])
        let output = try pfhost("diff", child.description, "--store", s.path)
        #expect(output.status == 4, "\(output)")
        #expect(output.stderr == "pfhost: error: no snapshot '\(absent)' in \(s.store.path) (see 'pfhost log' or index.json for what it holds)\n")
    }
}
