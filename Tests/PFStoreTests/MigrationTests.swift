import Foundation
import Testing
import PFModel
import PFSystem
@testable import PFStore

@Suite("Migrating a format-1 store")
struct MigrationTests {
    /// A format-1 store of three snapshots: `old` ← `main`, and one untagged. Its ids, oldest first.
    private func formatOne() throws -> (TemporaryDirectory, [Digest]) {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.path)
        let a = try store.commitSnapshot(SnapshotFactory.manifest(in: store, seed: "1"), tag: "old")
        try store.commitSnapshot(SnapshotFactory.manifest(in: store, seed: "2", parents: [a], createdAt: "2026-11-27T00:00:01Z"), tag: "main")
        try store.commitSnapshot(SnapshotFactory.manifest(in: store, seed: "3", createdAt: "2026-11-27T00:00:02Z"))
        return (dir, try FormatOneStore.downgrade(dir.path))
    }

    private func clean(_ store: SnapshotStore) -> [VerificationProblem] {
        var verifier = StoreVerifier(store: store)
        return verifier.verify(snapshots: nil, everyBlob: true)
    }

    @Test("a format-1 store is read as it is, and reading writes nothing")
    func readAsItIs() throws {
        let (dir, ids) = try formatOne()
        let indexBefore = FileManager.default.bytes(dir.file("index.json"))
        let store = try SnapshotStore(opening: dir.path)
        #expect(try store.format() == 1)
        #expect(try store.history().map(\.id) == ids)
        #expect(try store.resolve("main") == ids[1] && store.resolve("main~1") == ids[0])
        #expect(try store.snapshot(ids[1]).format == 1 && store.snapshot(ids[1]).manifest.parents == [ids[0]])
        #expect(try store.tags() == [ids[0]: ["old"], ids[1]: ["main"]])
        #expect(clean(store) == [])
        #expect(FileManager.default.bytes(dir.file("index.json")) == indexBefore)
        #expect(!FileManager.default.fileExists(atPath: dir.file("ingest/journal.v2")))
    }

    @Test("each layer's JSON reads the same in both formats, alone (layerJSON) or with the snapshot, and decodes to its layer")
    func layerJSON() throws {
        let (dir, ids) = try formatOne()
        let store = try SnapshotStore(opening: dir.path)
        let before = try store.snapshot(ids[1])
        #expect(try store.layers(of: ids[1]).mapValues(\.json) == before.layerJSON)
        #expect(try CanonicalJSON.decode(Layer<ModelContent>.self, from: #require(before.layerJSON[.model])) == before.manifest.model)
        #expect(try CanonicalJSON.decode(Layer<TraceContent>.self, from: #require(before.layerJSON[.trace])) == before.manifest.trace)
        #expect(before.format == 1)
        _ = try store.migrate()
        let id = try store.commitSnapshot(SnapshotFactory.manifest(in: store, seed: "4", createdAt: "2026-11-27T00:00:03Z"))
        let format2 = try store.snapshot(id)
        #expect(format2.format == 2)
        #expect(try store.layers(of: id).mapValues(\.json) == format2.layerJSON)
        #expect(try CanonicalJSON.decode(Layer<WorldContent>.self, from: #require(format2.layerJSON[.world])) == format2.manifest.world)
        #expect(try store.layers(of: ids[1]).mapValues(\.json) == before.layerJSON)
    }

    @Test("migrate upgrades in place: same ids and tags, the history in the journal, index.json tags only")
    func migrate() throws {
        let (dir, ids) = try formatOne()
        let store = try SnapshotStore(opening: dir.path)
        #expect(try store.migrate() == SnapshotStore.Migration(from: 1, snapshots: 3, tags: 2))
        #expect(try store.format() == 2)
        #expect(try store.history().map(\.id) == ids)
        #expect(try store.readIndex().manifests.map(\.refName) == ["old", "main"])
        #expect(try store.tags() == [ids[0]: ["old"], ids[1]: ["main"]])
        #expect(clean(store) == [])
        #expect(try store.migrate() == SnapshotStore.Migration(from: 2, snapshots: 0, tags: 2))
        #expect(store.takeUpgrades() == [])
    }

    @Test("the first write into a format-1 store upgrades it, and says so once")
    func firstWrite() throws {
        let (dir, ids) = try formatOne()
        let store = try SnapshotStore(opening: dir.path)
        let (id, manifest) = try store.commit(SnapshotFactory.manifest(in: store, seed: "4", parents: [ids[1]]), tag: "main", onTagHead: true)
        #expect(store.takeUpgrades() == [SnapshotStore.Migration(from: 1, snapshots: 3, tags: 2)])
        #expect(store.takeUpgrades() == [])
        #expect(manifest.parents == [ids[1]])
        #expect(try store.history().map(\.id) == ids + [id])
        #expect(try store.snapshot(id).format == 2)
        #expect(clean(store) == [])
    }

    @Test("a failure at every system call of a migration leaves a store that reads as before, and a second migration finishes")
    func everyStep() throws {
        let plan = FaultPlan()
        let steps: Int
        do {
            let (dir, _) = try formatOne()
            let store = try SnapshotStore(opening: dir.path, durability: .batch, system: SystemCalls(faultHook: plan.hook))
            plan.arm(failAt: nil)
            try store.migrate()
            steps = plan.calls.count
            plan.disarm()
        }
        #expect(steps > 8)
        for failAt in 0..<steps {
            let (dir, ids) = try formatOne()
            let store = try SnapshotStore(opening: dir.path, durability: .batch, system: SystemCalls(faultHook: plan.hook))
            plan.arm(failAt: failAt)
            _ = try? store.migrate()
            plan.disarm()
            let reader = try SnapshotStore(opening: dir.path)
            #expect(try reader.history().map(\.id) == ids, "fault \(failAt)")
            #expect(try reader.resolve("main") == ids[1], "fault \(failAt)")
            #expect(clean(reader) == [], "fault \(failAt)")
            try reader.migrate()
            #expect(try reader.format() == 2 && reader.history().map(\.id) == ids, "fault \(failAt)")
        }
    }
}
