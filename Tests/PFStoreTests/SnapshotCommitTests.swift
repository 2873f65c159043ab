import Foundation
import Testing
import PFModel
@testable import PFStore
import PFTestSupport

@Suite("Committing snapshots")
struct SnapshotCommitTests {
    @Test("the content id is the sha256 of the snapshot index, whose five layer manifests list every layer blob", arguments: Durability.allCases)
    func commit(durability: Durability) throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.path, durability: durability)
        let manifest = try SnapshotFactory.manifest(in: store, seed: "a")
        let id = try store.commitSnapshot(manifest, tag: "main")

        let rootBytes = FileManager.default.bytes(store.blobPath(id))
        #expect(Digest.of(rootBytes) == id)
        let root = try CanonicalJSON.decode(OCIIndex.self, from: rootBytes)
        #expect(root.mediaType == MediaType.ociIndex && root.annotations?[AnnotationKey.snapshot] == MediaType.snapshotIndexArtifact)
        #expect(root.manifests.map { $0.annotations?[AnnotationKey.layerKinds] } == LayerKind.allCases.map(\.rawValue))
        #expect(root.annotations?[AnnotationKey.created] == manifest.createdAt)
        for (entry, summary) in zip(root.manifests, manifest.layerSummaries) {
            let layerManifest = try CanonicalJSON.decode(OCIManifest.self, from: FileManager.default.bytes(store.blobPath(entry.digest)))
            #expect(Set(layerManifest.layers.map(\.digest)) == Set(summary.blobs.map(\.digest)))
            #expect(layerManifest.config.mediaType == MediaType.layerConfig && layerManifest.artifactType == MediaType.layerArtifact)
        }
        let snapshot = try store.snapshot(id)
        #expect(snapshot.manifest == manifest)
        #expect(snapshot.format == 2 && snapshot.root.size == Int64(rootBytes.count))

        let index = try store.readIndex()
        #expect(index.manifests.count == 1)
        #expect(index.manifests[0].digest == id && index.manifests[0].refName == "main")
        #expect(try store.history().map(\.id) == [id])
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

    @Test("an unchanged snapshot adds one blob (its snapshot index) and one journal line, under 4 KiB in all")
    func unchangedGrowth() throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.path)
        let manifest = try SnapshotFactory.manifest(in: store, seed: "u", extraBlobs: 200)
        let first = try store.commitSnapshot(manifest, tag: "main")
        let blobs = { try FileManager.default.contentsOfDirectory(atPath: dir.path + "/blobs/sha256").count }
        let size = { () throws -> Int64 in
            try FileManager.default.subpathsOfDirectory(atPath: dir.path).reduce(Int64(0)) { total, name in
                let attributes = try FileManager.default.attributesOfItem(atPath: dir.file(name))
                return attributes[.type] as? FileAttributeType == .typeRegular ? total + ((attributes[.size] as? Int64) ?? 0) : total
            }
        }
        let (blobsBefore, sizeBefore) = (try blobs(), try size())
        var next = manifest
        next.parents = [first]
        next.createdAt = "2026-11-27T00:00:01Z"
        try store.commitSnapshot(next, tag: "main")
        #expect(try blobs() == blobsBefore + 1)
        let grown = try size() - sizeBefore
        #expect(grown > 0 && grown <= 4096, "grew \(grown) bytes")
    }

    @Test("a blob shared by two layers is listed by both layer manifests and once in the closure")
    func sharedBlob() throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.path)
        var manifest = try SnapshotFactory.manifest(in: store, seed: "s")
        manifest.trace.blobs.append(manifest.model.blobs[0])
        let snapshot = try store.snapshot(store.commitSnapshot(manifest))
        #expect(snapshot.closure.filter { $0.digest == manifest.model.blobs[0].digest }.count == 1)
        #expect(snapshot.manifest == manifest)
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
        #expect(try store.history().isEmpty)
    }

    @Test("tags move; the snapshot they leave stays in the history, and index.json lists tags only")
    func tags() throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.path)
        let first = try store.commitSnapshot(SnapshotFactory.manifest(in: store, seed: "1"), tag: "agent")
        let second = try store.commitSnapshot(SnapshotFactory.manifest(in: store, seed: "2", parents: [first]), tag: "agent")
        let untagged = try store.commitSnapshot(SnapshotFactory.manifest(in: store, seed: "3"))
        let index = try store.readIndex()
        #expect(index.manifests.map(\.digest) == [second])
        #expect(index.manifests.map(\.refName) == ["agent"])
        #expect(try store.history().map(\.id) == [first, second, untagged])
        #expect(try store.snapshotID(tagged: "agent") == second)
        #expect { try store.commitSnapshot(SnapshotFactory.manifest(in: store, seed: "3"), tag: "-bad tag") } throws: { error in
            "\(error)".hasPrefix("invalid reference '-bad tag'")
        }
        #expect { try store.commitSnapshot(SnapshotFactory.manifest(in: store, seed: "3"), tag: "0123456789ab") } throws: { error in
            "\(error)".contains("would read as a content-id prefix")
        }
    }

    @Test("references resolve by tag, TAG~N, full id and unique prefix of 7+ digits")
    func resolve() throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.path)
        let a = try store.commitSnapshot(SnapshotFactory.manifest(in: store, seed: "r1"), tag: "v1")
        let b = try store.commitSnapshot(SnapshotFactory.manifest(in: store, seed: "r2", parents: [a]), tag: "v1")
        let c = try store.commitSnapshot(SnapshotFactory.manifest(in: store, seed: "r3", parents: [b]), tag: "v1")
        #expect(try store.resolve("v1") == c)
        #expect(try store.resolve("v1~") == b && store.resolve("v1~1") == b && store.resolve("v1~2") == a && store.resolve("v1~0") == c)
        #expect(try store.resolve(String(b.hex.prefix(12)) + "~1") == a)
        #expect { try store.resolve("v1~3") } throws: { "\($0)".contains("has no parent") }
        #expect { try store.resolve("v1~x") } throws: { "\($0)".contains("after '~' comes a number") }
        #expect(try store.resolve(a.description) == a)
        #expect(try store.resolve(String(a.hex.prefix(7))) == a)
        #expect(try store.resolve("sha256:" + a.hex.prefix(20)) == a)
        #expect { try store.resolve(String(a.hex.prefix(6))) } throws: { "\($0)".contains("at least 7 hex digits") }
        #expect { try store.resolve("nope") } throws: { "\($0)".hasPrefix("no snapshot 'nope' in \(dir.path)") }
        let other = Digest.of([1, 2, 3])
        #expect { try store.resolve(other.description) } throws: { "\($0)".hasPrefix("no snapshot '\(other)'") }
    }

    @Test("a prefix shared by two snapshots is ambiguous")
    func ambiguous() throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.path)
        let a = try Digest(hex: "aaaaaaa" + String(repeating: "1", count: 57))
        let b = try Digest(hex: "aaaaaaa" + String(repeating: "2", count: 57))
        try store.withIndexLock { () throws(StoreError) in
            try store.appendJournal([a, b].map { .add(HistoryEntry(root: OCIDescriptor(mediaType: MediaType.ociIndex, digest: $0, size: 1), created: "")) })
        }
        #expect { try store.resolve("aaaaaaa") } throws: { error in "\(error)".contains("matches 2 snapshots") }
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

    @Test("an index.json of a store format this pfhost does not know is refused")
    func futureFormat() throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.path)
        try Data(#"{"annotations":{"dev.pfhost.store.format":"3"},"manifests":[],"schemaVersion":2}"#.utf8).write(to: URL(fileURLWithPath: dir.file("index.json")))
        #expect { try store.history() } throws: { "\($0)".contains("says store format 3; this pfhost reads 1 and 2") }
    }

    @Test("tag grammar", arguments: [("main", true), ("v1.2-rc_3", true), ("_x", true), (".x", false), ("-x", false),
                                     ("a/b", false), ("", false), (String(repeating: "t", count: 129), false),
                                     ("deadbeef", false), ("dead", true), ("0123456789ab", false), ("0123456789aB", false)])
    func grammar(tag: String, valid: Bool) {
        #expect((SnapshotStore.tagProblem(tag) == nil) == valid)
    }
}

@Suite("The journal")
struct JournalTests {
    @Test("a last line a crash cut short is ignored, and cut off by the next append")
    func tornTail() throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.path)
        let first = try store.commitSnapshot(SnapshotFactory.manifest(in: store, seed: "1"))
        let handle = try #require(FileHandle(forWritingAtPath: dir.file("ingest/journal.v2")))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"created":"2026-11-27T00:00:00Z","digest":"sha256:00"#.utf8))
        handle.closeFile()
        #expect(try store.history().map(\.id) == [first])
        let second = try store.commitSnapshot(SnapshotFactory.manifest(in: store, seed: "2"))
        #expect(try store.history().map(\.id) == [first, second])
        let text = String(decoding: FileManager.default.bytes(dir.file("ingest/journal.v2")), as: UTF8.self)
        #expect(text.split(separator: "\n").count == 2 && text.hasSuffix("\n"))
    }

    @Test("a damaged line in the middle is skipped and reported with its number, and gc refuses to run")
    func damagedLine() throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.path)
        try store.commitSnapshot(SnapshotFactory.manifest(in: store, seed: "1"))
        try store.commitSnapshot(SnapshotFactory.manifest(in: store, seed: "2"))
        let path = dir.file("ingest/journal.v2")
        var lines = String(decoding: FileManager.default.bytes(path), as: UTF8.self).split(separator: "\n").map(String.init)
        lines[0] = "{\"op\":\"add\"}"
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
        let (entries, damaged) = try store.historyWithDamage()
        #expect(entries.count == 1 && damaged == [JournalDamage(file: path, line: 1, reason: "no digest")])
        #expect(try store.history() == entries)
        #expect { try SnapshotStore(opening: dir.path).collectGarbage() } throws: { "\($0)".hasPrefix("\(path) is corrupt: line 1 is damaged: no digest; gc removes nothing") }
    }

    @Test("forget takes snapshots and their tags out of the history; gc then removes exactly the blobs only they reached")
    func forgetAndCollect() throws {
        let dir = TemporaryDirectory()
        let (a, b, stray): (Digest, Digest, BlobRef)
        do {
            let writer = try SnapshotStore.openOrCreate(at: dir.path)
            a = try writer.commitSnapshot(SnapshotFactory.manifest(in: writer, seed: "a"), tag: "old")
            b = try writer.commitSnapshot(SnapshotFactory.manifest(in: writer, seed: "b", parents: [a]), tag: "main")
            stray = try writer.putBlob(Array("written by nobody's snapshot".utf8))
            try writer.flush()
            // A writer holds its lease until released: gc from it would wait for itself.
            #expect { try writer.collectGarbage() } throws: { "\($0)".contains("holds a write lease") }
        }
        let store = try SnapshotStore(opening: dir.path)
        let kept = Set(try store.snapshot(b).closure.map(\.digest))
        let onlyA = try store.snapshot(a).closure.filter { !kept.contains($0.digest) }
        try store.forget([a])
        #expect(try store.history().map(\.id) == [b] && store.snapshotID(tagged: "old") == nil)
        let dry = try store.collectGarbage(dryRun: true)
        #expect(dry.blobsRemoved == onlyA.count + 1)
        #expect(FileManager.default.fileExists(atPath: store.blobPath(a)))
        let result = try store.collectGarbage()
        #expect(result.blobsRemoved == onlyA.count + 1)
        #expect(result.bytesRemoved == onlyA.reduce(stray.size) { $0 + $1.size })
        #expect(result.journalLinesDropped == 2)
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/blobs/sha256"))
        #expect(left == Set(kept.map(\.hex)))
        var verifier = StoreVerifier(store: store)
        #expect(verifier.verify(snapshots: nil, everyBlob: true) == [])
        #expect(try store.parents(of: b) == [a])
    }

    @Test("a parent's layers are handed out only as JSON objects of their kind, canonically encoded: damage is the store's, naming the blob", arguments: [
        ("deep", String(repeating: "[", count: 600) + String(repeating: "]", count: 600)),
        ("not UTF-8", "{\"kind\":\"model\",\"name\":\"\u{FFFD}\"}"),
        ("another kind", "{\"kind\":\"cache\"}"),
        ("not an object", "[1,2]"),
        ("empty", ""),
        ("duplicate key", "{\"kind\":\"model\",\"kind\":\"model\"}"),
    ])
    func hostileParentLayers(_ name: String, _ text: String) throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.path)
        let id = try store.commitSnapshot(SnapshotFactory.manifest(in: store, seed: "p"))
        // Pretty-printed is fine: it comes back canonical.
        #expect(try store.layers(of: id)[.model]?.json == CanonicalJSON.encode(JSONParser.parse(store.snapshot(id).layerJSON[.model]!)))
        var bytes = Array(text.utf8)
        if name == "not UTF-8" { bytes = bytes.map { $0 == 0xEF ? 0xFF : $0 } }
        let forged = try LayerForgery.replacingLayer(.model, of: id, with: bytes, in: store)
        #expect { try store.layers(of: forged.root.digest) } throws: { error in
            guard case StoreError.corrupt(let file, _) = error else { return false }
            return file == store.blobPath(forged.config.digest)
        }
    }

    @Test("a parent's layer manifest is read for its config only, and refused naming it when that is not a layer config", arguments: [
        "artifactType", "config mediaType", "config size", "config missing",
    ])
    func hostileParentLayerManifests(_ damage: String) throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.path)
        let id = try store.commitSnapshot(SnapshotFactory.manifest(in: store, seed: "p"))
        let index = try CanonicalJSON.decode(OCIIndex.self, from: store.readBlob(id))
        var layer = try CanonicalJSON.decode(OCIManifest.self, from: store.readBlob(index.manifests[0].digest))
        switch damage {
        case "artifactType": layer.artifactType = "application/vnd.other"
        case "config mediaType": layer.config.mediaType = "application/json"
        case "config size": layer.config.size = -1
        default: layer.config.digest = Digest.of(Array("absent".utf8))
        }
        let stored = try store.putBlob(layer.canonicalJSON)
        var manifests = index.manifests
        manifests[0] = OCIDescriptor(mediaType: MediaType.ociManifest, digest: stored.digest, size: stored.size, annotations: manifests[0].annotations)
        let root = try store.putBlob(CanonicalJSON.encode(OCIIndex(manifests: manifests, annotations: index.annotations)))
        try store.flush()
        #expect { try store.layers(of: root.digest) } throws: { error in
            switch error {
            case StoreError.corrupt(let file, _): return file == store.blobPath(stored.digest)
            case StoreError.missingBlob(let digest, _): return damage == "config missing" && digest == layer.config.digest
            default: return false
            }
        }
    }
}
