import Foundation
import Testing
import PFModel
import PFStore
import PFTestSupport

/// A layer a plugin hands back as its parent's, unchanged, is named in the new snapshot by the
/// parent's stored config, not encoded and stored again; only when that config is the very bytes
/// the layer would be stored as (canonical, stamped by the same plugin).
@Suite("Unchanged layers")
struct UnchangedLayerTests {
    typealias Agent = ReferencePluginTests.Agent

    /// The layer manifest each layer of snapshot `id` is stored as, model to trace.
    private func layerManifests(_ id: Digest, in store: String) throws -> [Digest] {
        try CanonicalJSON.decode(OCIIndex.self, from: SnapshotStore(opening: store).readBlob(id)).manifests.map(\.digest)
    }

    /// The config blob of the `kind` layer of snapshot `id`.
    private func config(_ kind: LayerKind, of id: Digest, in store: String) throws -> (digest: Digest, bytes: [UInt8]) {
        let opened = try SnapshotStore(opening: store)
        let manifest = try CanonicalJSON.decode(OCIManifest.self, from: opened.readBlob(layerManifests(id, in: store)[LayerKind.allCases.firstIndex(of: kind)!]))
        return (manifest.config.digest, try opened.readBlob(manifest.config.digest))
    }

    private func reused(_ output: ProcessOutput) -> [String] {
        guard let line = output.stderr.split(separator: "\n").first(where: { $0.contains("unchanged, stored as the parent's: the ") }),
              let list = line.components(separatedBy: "stored as the parent's: the ").last?.components(separatedBy: " layer configs").first
        else { return [] }
        return list.components(separatedBy: ", ")
    }

    @Test("an unchanged snapshot names its parent's layer configs; a changed layer is stored afresh; both verify")
    func unchangedAndChanged() throws {
        let agent = try Agent()
        let settings = ["--set", "world.racy_window_ms=0", "--tag", "t"]
        let (first, _) = try agent.manifest(settings)
        let second = try agent.snapshot(settings + ["--verbose"])
        #expect(second.status == 0, "\(second)")
        #expect(reused(second) == LayerKind.allCases.map(\.rawValue), "\(second.stderr)")
        let secondID = try Digest(parsing: second.stdout.trimmingCharacters(in: .newlines))
        #expect(try layerManifests(secondID, in: agent.store) == layerManifests(first, in: agent.store))

        let conversation = agent.root + "/trace/conversation.jsonl"
        let handle = try #require(FileHandle(forWritingAtPath: conversation))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"role":"user","content":"one more thing"}"#.utf8 + [0x0a]))
        try handle.close()
        let third = try agent.snapshot(settings + ["--verbose"])
        #expect(third.status == 0, "\(third)")
        #expect(reused(third) == ["model", "cache", "world", "effects"], "\(third.stderr)")
        let thirdID = try Digest(parsing: third.stdout.trimmingCharacters(in: .newlines))
        let before = try layerManifests(secondID, in: agent.store), after = try layerManifests(thirdID, in: agent.store)
        #expect(Array(after.prefix(4)) == Array(before.prefix(4)))
        #expect(after[4] != before[4])
        let manifest = try SnapshotStore(opening: agent.store).snapshot(thirdID).manifest
        #expect(manifest.trace.content.messageCount == (try SnapshotStore(opening: agent.store).snapshot(secondID).manifest.trace.content.messageCount) + 1)
        let verify = try run(productsDirectory + "/pfhost", ["verify", "--all", "--store", agent.store])
        #expect(verify.status == 0, "\(verify)")
    }

    @Test("a parent's layer stamped by another version of the plugin is stored again, with this plugin's stamp")
    func otherPluginVersion() throws {
        let agent = try Agent()
        let (first, manifest) = try agent.manifest(["--tag", "t"])
        let store = try SnapshotStore(opening: agent.store)
        let plugin = try #require(manifest.trace.plugin)
        let forged = try LayerForgery.editingLayer(.trace, of: first, in: store, tag: "older") { members in
            members["plugin"] = .object(["id": .string(plugin.id), "version": .string("0.0.1")])
        }
        let output = try agent.snapshot(["--parent", "older", "--verbose"])
        #expect(output.status == 0, "\(output)")
        #expect(!reused(output).contains("trace") && reused(output).contains("effects"), "\(output.stderr)")
        let id = try Digest(parsing: output.stdout.trimmingCharacters(in: .newlines))
        let stored = try config(.trace, of: id, in: agent.store)
        #expect(stored.digest != forged.config.digest)
        #expect(try SnapshotStore(opening: agent.store).snapshot(id).manifest.trace.plugin == manifest.trace.plugin)
    }

    @Test("a parent's layer config in another form than canonical is stored again in canonical form")
    func nonCanonicalParent() throws {
        let agent = try Agent()
        let (first, _) = try agent.manifest(["--tag", "t"])
        let store = try SnapshotStore(opening: agent.store)
        let canonical = try store.snapshot(first).layerJSON[.effects]!
        // The same value with a space after its first brace: valid JSON another tool could write.
        let spaced = [UInt8(ascii: "{"), UInt8(ascii: " ")] + canonical.dropFirst()
        #expect(try CanonicalJSON.encode(JSONParser.parse(spaced)) == canonical)
        let forged = try LayerForgery.replacingLayer(.effects, of: first, with: spaced, in: store)
        _ = try store.adoptSnapshot(root: forged.root, tag: "spaced")
        let output = try agent.snapshot(["--parent", "spaced", "--verbose"])
        #expect(output.status == 0, "\(output)")
        #expect(!reused(output).contains("effects") && reused(output).contains("trace"), "\(output.stderr)")
        let id = try Digest(parsing: output.stdout.trimmingCharacters(in: .newlines))
        let stored = try config(.effects, of: id, in: agent.store)
        #expect(stored.bytes == canonical)
        #expect(stored.digest == Digest.of(canonical))
    }

    /// What the host does when a layer handed back unchanged fails a check (exit 3, the store's
    /// damage) is tested with a damaged world pack (`HostileInputTests`): the reference plugins
    /// re-read what they reuse and heal most other damage by capturing afresh.
    @Test("text that looks like a digest in what the agent controls is not a blob reference: an environment value and an annotation snapshot, are reused and verify")
    func digestLikeText() throws {
        let agent = try Agent()
        let digest = "sha256:" + String(repeating: "e", count: 64)
        let (first, _) = try agent.manifest(["--tag", "t"], environment: ["IMAGE_DIGEST": digest])
        let store = try SnapshotStore(opening: agent.store)
        let forged = try LayerForgery.editingLayer(.trace, of: first, in: store, tag: "noted") { members in
            members["annotations"] = .object(["note": .string(digest)])
        }
        let output = try agent.snapshot(["--tag", "noted", "--verbose"], environment: ["IMAGE_DIGEST": digest])
        #expect(output.status == 0, "\(output)")
        #expect(reused(output).contains("trace"), "\(output.stderr)")
        let id = try Digest(parsing: output.stdout.trimmingCharacters(in: .newlines))
        #expect(try config(.trace, of: id, in: agent.store).digest == forged.config.digest)
        #expect(try SnapshotStore(opening: agent.store).snapshot(id).manifest.world.content.env?["IMAGE_DIGEST"] == digest)
        let verify = try run(productsDirectory + "/pfhost", ["verify", "--store", agent.store])
        #expect(verify.status == 0, "\(verify)")
    }

    @Test("a capture that fails on a parent's layer the schema refuses is the store's damage: exit 3, naming the layer")
    func parentLayerSchemaDamage() throws {
        let agent = try Agent()
        let trust = ["--set", "world.racy_window_ms=0"]
        let (first, _) = try agent.manifest(["--tag", "t"] + trust)
        let store = try SnapshotStore(opening: agent.store)
        // Still canonical and still decodable, but a count the schema refuses.
        let forged = try LayerForgery.editingLayer(.world, of: first, in: store, tag: "damaged") { members in
            guard case .object(var tree)? = members["tree"] else { return }
            tree["entry_count"] = .int(-1)
            members["tree"] = .object(tree)
        }
        // The tree is the parent's (same key) but the environment is not: the world plugin builds
        // a new layer on the parent's tree, which the schema refuses.
        let output = try agent.snapshot(["--tag", "damaged"] + trust, environment: ["PFHOST_TEST_CHANGED": "1"])
        #expect(output.status == 3, "\(output)")
        #expect(output.stderr.contains(store.blobPath(forged.config.digest)) && output.stderr.contains("is damaged: does not match plugin-sdk/schema/layer-world.schema.json"), "\(output)")
        #expect(!output.stderr.hasPrefix("pfhost: error: plugin"), "the plugin is not blamed: \(output)")
    }

    @Test("a parent's layer the schema refuses, handed back unchanged, is carried into the child as it is, and verify reports both")
    func schemaDamageCarried() throws {
        let agent = try Agent()
        let (first, _) = try agent.manifest(["--tag", "t"])
        let store = try SnapshotStore(opening: agent.store)
        let text = String(decoding: try store.snapshot(first).layerJSON[.cache]!, as: UTF8.self)
        #expect(text.contains("\"num_heads\":"))
        // Renamed: still canonical (the key keeps its place) and decodable, no longer what the schema accepts.
        let renamed = Array(text.replacingOccurrences(of: "\"num_heads\":", with: "\"num_headz\":").utf8)
        let forged = try LayerForgery.replacingLayer(.cache, of: first, with: renamed, in: store)
        try LayerForgery.tag(forged.root, as: "damaged", inStoreAt: agent.store)
        // The cache plugin finds its input unchanged and hands the parent's layer back undecoded.
        let output = try agent.snapshot(["--tag", "damaged", "--verbose"])
        #expect(output.status == 0 && reused(output).contains("cache"), "\(output)")
        let child = try Digest(parsing: output.stdout.trimmingCharacters(in: .newlines))
        #expect(try config(.cache, of: child, in: agent.store).digest == forged.config.digest)
        // The two snapshots share the layer: each, verified, reports it.
        for snapshot in ["damaged", "damaged~1"] {
            let verify = try run(productsDirectory + "/pfhost", ["verify", snapshot, "--store", agent.store])
            #expect(verify.status == 1 && verify.stdout.contains("does not match plugin-sdk/schema/layer-cache.schema.json"), "\(verify)")
        }
    }

    @Test("a capture that fails on its own is the plugin's failure (exit 2, named first), whatever its parent's layers hold", arguments: [
        (LayerKind.model, false), (.model, true), (.trace, false), (.trace, true),
    ])
    func ownFailureBesideDamagedParent(_ damaged: LayerKind, _ isolate: Bool) throws {
        let agent = try Agent()
        let (first, _) = try agent.manifest(["--tag", "t"])
        let store = try SnapshotStore(opening: agent.store)
        // A member no schema has: verify refuses the parent's layer; the plugins decode past it.
        _ = try LayerForgery.editingLayer(damaged, of: first, in: store, tag: "damaged") { members in
            members["zzz_unknown"] = .int(1)
        }
        let output = try agent.snapshot(["--tag", "damaged", "--set", "model.path=/nonexistent"] + (isolate ? ["--isolate"] : []))
        #expect(output.status == 2, "\(output)")
        #expect(output.stderr.hasPrefix("pfhost: error: plugin \(agent.plugins)/libpf-model.so"), "\(output)")
        #expect(!output.stderr.contains("is corrupt"), "\(output)")
    }

    @Test("a parent's layer config over 16 MiB is refused before it is read, naming its layer manifest")
    func oversizedParentLayer() throws {
        let agent = try Agent()
        let (first, _) = try agent.manifest(["--tag", "t"])
        let store = try SnapshotStore(opening: agent.store)
        let forged = try LayerForgery.editingLayer(.effects, of: first, in: store, tag: "big") { members in
            members["zz"] = .string(String(repeating: "x", count: 17 << 20))
        }
        let output = try agent.snapshot(["--tag", "big"])
        #expect(output.status == 3, "\(output)")
        #expect(output.stderr.contains(store.blobPath(forged.layerManifest.digest)) && output.stderr.contains("a layer is at most 16 MiB of JSON"), "\(output)")
    }
}

@Suite("verify's checks of stored layers")
struct StoredLayerCheckTests {
    @Test("verify reports a stored layer whose content refers to a blob outside its blobs, or that has no plugin stamp", arguments: ["digest", "stamp"])
    func verifyReports(_ damage: String) throws {
        let agent = try ReferencePluginTests.Agent()
        let (first, _) = try agent.manifest(["--tag", "t"])
        let store = try SnapshotStore(opening: agent.store)
        let forged = try LayerForgery.editingLayer(.trace, of: first, in: store, tag: "forged") { members in
            if damage == "stamp" { members["plugin"] = nil } else {
                members["messages"] = .string("sha256:" + String(repeating: "e", count: 64))
            }
        }
        let verify = try run(productsDirectory + "/pfhost", ["verify", "forged", "--store", agent.store])
        #expect(verify.status == 1, "\(verify)")
        let expected = damage == "stamp" ? "it has no plugin stamp" : "it refers to sha256:eeee"
        #expect(verify.stdout.contains("\(store.blobPath(forged.layerManifest.digest)): the trace layer: \(expected)"), "\(verify)")
        #expect(try run(productsDirectory + "/pfhost", ["verify", "t", "--store", agent.store]).status == 0)
    }
}
