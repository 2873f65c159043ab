import Foundation
import Testing
import PFModel
import PFStore
import PFTestSupport
@testable import PFHost

/// What `set_layer` checks, and what it need not check again for a layer that is its parent's.
@Suite("Layer checks")
struct LayerValidatorTests {
    /// A store holding one blob, and a trace layer listing it, stamped as the parent's layer is.
    static func parent(extra: [String: JSONValue] = [:]) throws -> (dir: TemporaryDirectory, store: SnapshotStore, stamped: JSONValue) {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.file("store"))
        let blob = try store.putBlob(Array("{\"id\":\"m1\"}\n".utf8))
        try store.flush()
        var members: [String: JSONValue] = [
            "kind": .string("trace"), "messages": .string(blob.digest.description), "message_count": .int(1),
            "blobs": .array([.object(["digest": .string(blob.digest.description), "size": .int(Int64(blob.size)),
                                      "media_type": .string("application/x-ndjson")])]),
            "plugin": .object(["id": .string("dev.example.trace"), "version": .string("1.0.0")]),
        ]
        members.merge(extra) { $1 }
        return (dir, store, .object(members))
    }

    static func unstamped(_ layer: JSONValue) -> [UInt8] {
        guard case .object(var members) = layer else { return [] }
        members["plugin"] = nil
        return CanonicalJSON.encode(.object(members))
    }

    @Test("the parent's layer, without the plugin stamp or handed back as given, is accepted as the parent's, without a second schema walk")
    func unchangedLayerSkipsTheSchema() throws {
        // A field the schema refuses: a layer of its own is refused, the parent's unchanged one is not re-judged.
        let (dir, store, stamped) = try Self.parent(extra: ["note": .string("written by an older host")])
        _ = dir
        let parent = CanonicalJSON.encode(stamped)
        for bytes in [Self.unstamped(stamped), parent] {
            #expect(throws: LayerValidationError.self) { try LayerValidator.validate(bytes, kind: .trace, store: store) }
            let (layer, unchanged) = try LayerValidator.validate(bytes, kind: .trace, store: store, parentLayer: parent)
            #expect(layer.blobs.count == 1)
            #expect(unchanged)
        }
    }

    @Test("a layer that differs from its parent's by one byte, stamped or not, is checked against the schema")
    func changedLayerIsChecked() throws {
        let (dir, store, stamped) = try Self.parent(extra: ["note": .string("x")])
        _ = dir
        let parent = CanonicalJSON.encode(stamped)
        for var changed in [Self.unstamped(stamped), parent] {
            let at = try #require(changed.firstIndex(of: UInt8(ascii: "x")))
            changed[at] = UInt8(ascii: "y")
            #expect(throws: LayerValidationError.self) { try LayerValidator.validate(changed, kind: .trace, store: store, parentLayer: parent) }
        }
    }

    @Test("an unchanged layer still has its blobs checked in the store and its kind checked")
    func unchangedLayerBlobsAndKind() throws {
        let (dir, store, stamped) = try Self.parent()
        let parent = CanonicalJSON.encode(stamped)
        let bytes = Self.unstamped(stamped)
        _ = try LayerValidator.validate(bytes, kind: .trace, store: store, parentLayer: parent)
        let kind = #expect(throws: LayerValidationError.self) { try LayerValidator.validate(bytes, kind: .effects, store: store, parentLayer: parent) }
        #expect(kind?.description.contains("kind \"trace\"") == true)
        // The blob goes from the store: the parent's layer no longer checks out.
        let blobs = dir.file("store/blobs/sha256")
        for name in try FileManager.default.contentsOfDirectory(atPath: blobs) { try FileManager.default.removeItem(atPath: blobs + "/" + name) }
        let reopened = try SnapshotStore.openOrCreate(at: dir.file("store"))
        let missing = #expect(throws: LayerValidationError.self) { try LayerValidator.validate(bytes, kind: .trace, store: reopened, parentLayer: parent) }
        // The parent's layer, handed back unchanged: the store lost the blob, the plugin is not blamed.
        #expect(missing?.description.contains("which is not in the store (the layer is the parent's, handed back unchanged") == true)
        #expect(missing?.inParentLayer == true && missing?.blob != nil)
        // The same layer as the plugin's own (no parent given): the plugin listed a blob it never wrote.
        let own = #expect(throws: LayerValidationError.self) { try LayerValidator.validate(bytes, kind: .trace, store: reopened) }
        #expect(own?.description.contains("never wrote to the store") == true)
        #expect(own?.inParentLayer == false)
    }
}
