import Foundation
import Testing
import PFModel
@testable import PFStore

@Suite("Committing snapshots")
struct SnapshotCommitTests {
    @Test("the content id is the sha256 of the OCI manifest, which lists every layer blob", arguments: Durability.allCases)
    func commit(durability: Durability) throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.path, durability: durability)
        let manifest = try SnapshotFactory.manifest(in: store, seed: "a")
        let id = try store.commitSnapshot(manifest, tag: "main")

        let ociBytes = FileManager.default.bytes(store.blobPath(id))
        #expect(Digest.of(ociBytes) == id)
        let snapshot = try store.snapshot(id)
        #expect(snapshot.manifest == manifest)
        #expect(snapshot.ociManifest.artifactType == MediaType.snapshotArtifact)
        #expect(snapshot.ociManifest.config.mediaType == MediaType.snapshotConfig)
        let layerDigests = Set(snapshot.ociManifest.layers.map(\.digest))
        let manifestDigests = Set(manifest.layerSummaries.flatMap { $0.blobs.map(\.digest) })
        #expect(layerDigests == manifestDigests)
        #expect(snapshot.ociManifest.layers.allSatisfy { $0.annotations?[AnnotationKey.layerKinds] != nil })
        #expect(snapshot.ociManifest.annotations?[AnnotationKey.created] == manifest.createdAt)

        let index = try store.readIndex()
        #expect(index.manifests.count == 1)
        #expect(index.manifests[0].digest == id && index.manifests[0].refName == "main")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/ingest").filter { $0.hasSuffix(".tmp") } == [])
    }

    @Test("identical content gives an identical id")
    func reproducible() throws {
        let one = TemporaryDirectory(), two = TemporaryDirectory()
        let first = try SnapshotStore.openOrCreate(at: one.path)
        let second = try SnapshotStore.openOrCreate(at: two.path, durability: .none)
        let a = try first.commitSnapshot(SnapshotFactory.manifest(in: first, seed: "same"))
        let b = try second.commitSnapshot(SnapshotFactory.manifest(in: second, seed: "same"))
        #expect(a == b)
        let c = try second.commitSnapshot(SnapshotFactory.manifest(in: second, seed: "same", createdAt: "2026-11-28T00:00:00Z"))
        #expect(c != a)
    }

    @Test("a blob shared by two layers is listed once, annotated with both kinds")
    func sharedBlob() throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.path)
        var manifest = try SnapshotFactory.manifest(in: store, seed: "s")
        manifest.trace.blobs.append(manifest.model.blobs[0])
        let snapshot = try store.snapshot(store.commitSnapshot(manifest))
        let shared = snapshot.ociManifest.layers.filter { $0.digest == manifest.model.blobs[0].digest }
        #expect(shared.count == 1)
        #expect(shared.first?.annotations?[AnnotationKey.layerKinds] == "model,trace")
    }

    @Test("a layer naming a blob the store lacks is refused and nothing is committed")
    func missingBlob() throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.path)
        var manifest = try SnapshotFactory.manifest(in: store, seed: "m")
        let ghost = Digest.of(Array("never written".utf8))
        manifest.world.blobs.append(Descriptor(mediaType: "x", digest: ghost, size: 13))
        #expect { try store.commitSnapshot(manifest) } throws: { error in
            "\(error)" == "blob \(ghost) is not in \(dir.path)"
        }
        #expect(try store.readIndex().manifests.isEmpty)
    }

    @Test("tags move; the snapshot they leave stays listed")
    func tags() throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.path)
        let first = try store.commitSnapshot(SnapshotFactory.manifest(in: store, seed: "1"), tag: "agent")
        let second = try store.commitSnapshot(SnapshotFactory.manifest(in: store, seed: "2", parents: [first]), tag: "agent")
        let index = try store.readIndex()
        #expect(index.manifests.map(\.digest) == [first, second])
        #expect(index.manifests.map(\.refName) == [nil, "agent"])
        #expect(try store.snapshotID(tagged: "agent") == second)
        #expect { try store.commitSnapshot(SnapshotFactory.manifest(in: store, seed: "3"), tag: "-bad tag") } throws: { error in
            "\(error)".hasPrefix("invalid reference '-bad tag'")
        }
    }

    @Test("references resolve by tag, full id and unique prefix")
    func resolve() throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.path)
        let id = try store.commitSnapshot(SnapshotFactory.manifest(in: store, seed: "r"), tag: "v1")
        #expect(try store.resolve("v1") == id)
        #expect(try store.resolve(id.description) == id)
        #expect(try store.resolve(String(id.hex.prefix(12))) == id)
        #expect(try store.resolve("sha256:" + id.hex.prefix(20)) == id)
        #expect { try store.resolve(String(id.hex.prefix(11))) } throws: { "\($0)".contains("at least 12 hex digits") }
        #expect { try store.resolve("nope") } throws: { "\($0)".hasPrefix("no snapshot 'nope' in \(dir.path)") }
        let other = Digest.of([1, 2, 3])
        #expect { try store.resolve(other.description) } throws: { "\($0)".hasPrefix("no snapshot '\(other)'") }
    }

    @Test("a prefix shared by two snapshots is ambiguous")
    func ambiguous() throws {
        var index = OCIIndex(manifests: [])
        let a = try Digest(hex: "aaaaaaaaaaaa" + String(repeating: "1", count: 52))
        let b = try Digest(hex: "aaaaaaaaaaaa" + String(repeating: "2", count: 52))
        for digest in [a, b] {
            IndexEdit.add(OCIDescriptor(mediaType: MediaType.ociManifest, digest: digest, size: 1), tag: nil, to: &index)
        }
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.path)
        try store.updateIndex { $0 = index }
        #expect { try store.resolve("aaaaaaaaaaaa") } throws: { error in
            "\(error)".contains("matches 2 snapshots")
        }
    }

    @Test("an index.json another tool wrote (not canonical) is decoded, updated, and written canonical")
    func foreignIndex() throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.path)
        let first = try store.commitSnapshot(SnapshotFactory.manifest(in: store, seed: "a"), tag: "main")
        // The same index, pretty-printed, as a registry tool might leave it.
        let pretty = try JSONSerialization.data(withJSONObject: JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.file("index.json")))),
                                                options: [.prettyPrinted])
        try pretty.write(to: URL(fileURLWithPath: dir.file("index.json")))
        #expect(RawIndex([UInt8](pretty)) == nil)
        #expect(try store.snapshotID(tagged: "main") == first)
        let second = try store.commitSnapshot(SnapshotFactory.manifest(in: store, seed: "b"), tag: "main")
        let bytes = FileManager.default.bytes(dir.file("index.json"))
        let index = try store.readIndex()
        #expect(bytes == (try CanonicalJSON.encode(index)))
        #expect(index.manifests.map(\.digest) == [first, second] && index.manifests.map(\.refName) == [nil, "main"])
        #expect(try store.resolve("main") == second)
    }

    @Test("a damaged entry in a canonical-looking index.json is reported, not trusted, when a commit touches it")
    func damagedRawEntry() throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.path)
        let first = try store.commitSnapshot(SnapshotFactory.manifest(in: store, seed: "a"), tag: "main")
        // Drop the tagged entry's size: still raw-scannable, no longer a descriptor.
        let text = String(decoding: FileManager.default.bytes(dir.file("index.json")), as: UTF8.self)
        let damaged = try #require(text.range(of: #","size":[0-9]+"#, options: .regularExpression).map { text.replacingCharacters(in: $0, with: "") })
        try Data(damaged.utf8).write(to: URL(fileURLWithPath: dir.file("index.json")))
        #expect(RawIndex(Array(damaged.utf8)) != nil)
        #expect(try store.snapshotID(tagged: "main") == first)
        let manifest = try SnapshotFactory.manifest(in: store, seed: "b")
        #expect { try store.commitSnapshot(manifest, tag: "main") } throws: { error in
            "\(error)".hasPrefix("\(dir.path)/index.json is corrupt")
        }
        #expect(String(decoding: FileManager.default.bytes(dir.file("index.json")), as: UTF8.self) == damaged)
    }

    @Test("a corrupt index.json is reported with its path")
    func corruptIndex() throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.path)
        _ = FileManager.default.createFile(atPath: dir.file("index.json"), contents: Data("{\"manifests\": [".utf8))
        #expect { try store.readIndex() } throws: { error in
            "\(error)".hasPrefix("\(dir.path)/index.json is corrupt: invalid JSON at byte 15")
        }
    }
}

@Suite("Index edits")
struct IndexEditTests {
    private func entry(_ n: UInt8) -> OCIDescriptor {
        OCIDescriptor(mediaType: MediaType.ociManifest, digest: Digest.of([n]), size: Int64(n))
    }

    @Test("an untagged snapshot is listed once")
    func untagged() {
        var index = OCIIndex(manifests: [])
        IndexEdit.add(entry(1), tag: nil, to: &index)
        IndexEdit.add(entry(1), tag: nil, to: &index)
        #expect(index.manifests == [entry(1)])
    }

    @Test("tagging replaces the untagged entry and a second tag adds an entry")
    func tagging() {
        var index = OCIIndex(manifests: [])
        IndexEdit.add(entry(1), tag: nil, to: &index)
        IndexEdit.add(entry(1), tag: "a", to: &index)
        IndexEdit.add(entry(1), tag: "b", to: &index)
        #expect(index.manifests.map(\.refName) == ["a", "b"])
        IndexEdit.add(entry(2), tag: "a", to: &index)
        IndexEdit.add(entry(2), tag: "b", to: &index)
        #expect(index.manifests.map(\.digest) == [entry(1).digest, entry(2).digest, entry(2).digest])
        #expect(index.manifests.map(\.refName) == [nil, "a", "b"])
    }

    @Test("editing the raw canonical index gives the bytes decoding, editing and encoding gives")
    func rawMatchesDecoded() throws {
        var index = OCIIndex(manifests: [])
        var bytes = try CanonicalJSON.encode(index)
        // A fixed pseudo-random walk over 12 snapshots and 3 tags (or none), with annotations
        // whose text looks like JSON and like a digest.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: UInt64) -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (state >> 33) % bound
        }
        for step in 0..<300 {
            var added = entry(UInt8(next(12)))
            added.annotations = [AnnotationKey.created: "\"digest\":\"\(Digest.of([UInt8(step % 7)]))\" {[,]}", "step": "\(step)"]
            let tag: String? = [nil, "main", "b", "exp.1"][Int(next(4))]
            IndexEdit.add(added, tag: tag, to: &index)
            var raw = try #require(RawIndex(bytes), "step \(step): the canonical index is not raw-editable")
            let applied = raw.add(added, tag: tag)
            #expect(applied)
            bytes = raw.encoded()
            #expect(bytes == (try CanonicalJSON.encode(index)), "step \(step)")
        }
        #expect(index.manifests.count >= 12 && index.manifests.contains { $0.refName != nil })
    }

    @Test("an index in any other form is not raw-editable", arguments: [
        #"{"manifests": [], "mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2}"#,
        #"{"manifests":[{"digest":"sha256:\u0030"}],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2}"#,
        #"{"manifests":[{"mediaType":"x","size":1}],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2}"#,
        #"{"manifests":[{"digest":"sha256:00"}],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2}"#,
        #"{"annotations":{},"manifests":[],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2}"#,
        #"{"manifests":[{"digest":"#,
    ])
    func notRaw(text: String) {
        #expect(RawIndex(Array(text.utf8)) == nil)
    }

    /// A canonical-looking index whose one entry holds a member nested `depth` levels deep in all
    /// (the index object being level 1, its manifests array 2, the entry 3).
    private func nestedIndex(depth: Int) -> [UInt8] {
        let inner = depth - 3
        let digest = "sha256:" + String(repeating: "a", count: 64)
        return Array((#"{"manifests":[{"digest":"\#(digest)","mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"x":"#
            + String(repeating: "[", count: inner) + String(repeating: "]", count: inner)
            + #"}],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2}"#).utf8)
    }

    @Test("an escape canonical JSON would not write makes the index not raw-editable, so both readings agree (fuzzing found a tag the scan missed)", arguments: [
        #"{"org.opencontainers.image.ref.n\u0061me":"main"}"#, #"{"org.opencontainers.image.ref.name":"ma\u0069n"}"#,
        #"{"x":"a\/b","org.opencontainers.image.ref.name":"main"}"#, #"{"x":"\u0008","org.opencontainers.image.ref.name":"main"}"#,
        #"{"x":"\u001F","org.opencontainers.image.ref.name":"main"}"#,
    ])
    func nonCanonicalEscapes(annotations: String) throws {
        let digest = "sha256:" + String(repeating: "a", count: 64)
        let text = #"{"manifests":[{"annotations":"# + annotations + #","digest":""# + digest
            + #"","mediaType":"application/vnd.oci.image.manifest.v1+json","size":1}],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2}"#
        #expect(RawIndex(Array(text.utf8)) == nil)
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.path)
        try Data(text.utf8).write(to: URL(fileURLWithPath: dir.file("index.json")))
        // resolve and show read the scan when they can; log reads the decoded index: one answer.
        #expect(try store.snapshotID(tagged: "main") == store.readIndex().manifests.first { $0.refName == "main" }?.digest)
        #expect(try store.snapshotID(tagged: "main")?.description == digest)
    }

    @Test("the escapes canonical JSON writes leave an index raw-editable")
    func canonicalEscapes() throws {
        let value = CanonicalJSON.encode(.string("q\"b\\\u{8}\u{C}\n\r\t\u{1}\u{1F}é"))
        let text = #"{"manifests":[{"annotations":{"x":"# + String(decoding: value, as: UTF8.self) + #","org.opencontainers.image.ref.name":"main"},"digest":"sha256:"#
            + String(repeating: "b", count: 64) + #"","mediaType":"m","size":1}],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2}"#
        #expect(RawIndex(Array(text.utf8))?.entries.first?.refName == "main")
    }

    @Test("RawIndex and the strict parser agree on the nesting limit, and 1,000,000 levels end neither by recursion")
    func nesting() throws {
        // Level 512 is read by both; 513 by neither (the scan gives up, the parser says where).
        #expect(RawIndex(nestedIndex(depth: 512)) != nil)
        #expect(throws: Never.self) { try JSONParser.parse(nestedIndex(depth: 512)) }
        #expect(RawIndex(nestedIndex(depth: 513)) == nil)
        #expect { try JSONParser.parse(nestedIndex(depth: 513)) } throws: { error in
            "\(error)".hasSuffix("nesting deeper than 512 levels")
        }
        let deep = nestedIndex(depth: 1_000_000)
        #expect(RawIndex(deep) == nil)
        #expect { try SnapshotStore.decodeIndex(deep, file: "index.json") } throws: { error in
            // x's first '[' is level 4: its 510th is level 513.
            let x = deep.indices.first { deep[$0...].starts(with: Array(#""x":["#.utf8)) }! + 4
            return "\(error)".hasPrefix("index.json is corrupt: invalid JSON at byte \(x + 509): nesting deeper than 512 levels")
        }
    }

    @Test("tag grammar", arguments: [("main", true), ("v1.2-rc_3", true), ("_x", true), (".x", false), ("-x", false),
                                     ("a/b", false), ("", false), (String(repeating: "t", count: 129), false)])
    func grammar(tag: String, valid: Bool) {
        #expect(IndexEdit.isValidTag(tag) == valid)
    }
}
