import Foundation
import Testing
import PFModel
import PFStore

/// Every `--json` document of the read-side commands, parsed as a script would: one line of
/// canonical JSON with its `schema`, and the same exit status as the text form.
@Suite("--json documents")
struct JSONOutputTests {
    private func parse(_ output: ProcessOutput) throws -> JSONValue {
        #expect(output.stdout.hasSuffix("\n") && output.stdout.split(separator: "\n").count == 1, "one line: \(output)")
        let bytes = Array(output.stdout.utf8.dropLast())
        let value = try JSONParser.parse(bytes)
        #expect(CanonicalJSON.encode(value) == bytes, "canonical: \(output.stdout)")
        return value
    }

    /// Two snapshots tagged `agent`, the second a child of the first.
    private func chain() throws -> (SnapshotCommandTests.Setup, Digest, Digest) {
        let setup = SnapshotCommandTests.Setup()
        let environment = ["SOURCE_DATE_EPOCH": "1800000000"]
        let first = try parse(setup.snapshot(["--tag", "agent", "--agent-kind", "coder", "--json"], environment: environment))
        #expect(first["schema"] == .string("pfhost.snapshot/1"))
        let second = try setup.snapshot(["--tag", "agent", "--agent-kind", "coder", "--set", "world.content=v2"], environment: environment)
        return (setup, try Digest(parsing: first["id"]?.stringValue ?? ""), try Digest(parsing: second.stdout.trimmingCharacters(in: .newlines)))
    }

    @Test("init --json names the store")
    func initialize() throws {
        let dir = TemporaryDirectory()
        let output = try pfhost("init", "--json", "--store", dir.file("s"))
        #expect(output.status == 0)
        #expect(try parse(output) == .object(["schema": .string("pfhost.init/1"), "store": .string(dir.file("s"))]))
    }

    @Test("log --json lists the chain newest first with tags and parents")
    func log() throws {
        let (setup, first, second) = try chain()
        let json = try parse(try pfhost("log", "agent", "--json", "--store", setup.store))
        #expect(json["schema"] == .string("pfhost.log/1"))
        #expect(json["missing_parent"] == .null)
        let agent = JSONValue.object(["kind": .string("coder"), "version": .string("0.0.0"), "fingerprint": .string("")])
        #expect(json["snapshots"] == .array([
            .object(["id": .string(second.description), "created_at": .string("2027-01-15T08:00:00Z"), "agent": agent,
                     "tags": .array([.string("agent")]), "parents": .array([.string(first.description)])]),
            .object(["id": .string(first.description), "created_at": .string("2027-01-15T08:00:00Z"), "agent": agent,
                     "tags": .array([]), "parents": .array([])]),
        ]), "\(json)")
        let empty = TemporaryDirectory()
        _ = try pfhost("init", "--store", empty.file("s"))
        #expect(try parse(try pfhost("log", "--json", "--store", empty.file("s")))["snapshots"] == .array([]))
    }

    @Test("log --json names the first parent the store does not hold (a snapshot copied without its history)")
    func logMissingParent() throws {
        let s = try DiffHostileStoreTests.Store()
        let absent = Digest.of(Array("a snapshot elsewhere".utf8))
        let child = try s.commit(tree: DiffHostileStoreTests.tree([], packs: []), packs: [], ledger: [], parents: [absent])
        let output = try pfhost("log", child.description, "--json", "--store", s.path)
        #expect(output.status == 0, "\(output)")
        let json = try parse(output)
        #expect(json["missing_parent"] == .string(absent.description))
        guard case .array(let rows)? = json["snapshots"] else { Issue.record("\(json)"); return }
        #expect(rows.map { $0["id"] } == [.string(child.description)])
        #expect(try pfhost("log", child.description, "--store", s.path).stdout.hasSuffix("\(absent.hex.prefix(12))  (not in this store)\n"))
    }

    @Test("verify --json: ok, or each problem with its snapshot and file, and exit 1")
    func verify() throws {
        let (setup, _, second) = try chain()
        let clean = try pfhost("verify", "agent", "--json", "--store", setup.store)
        #expect(clean.status == 0, "\(clean)")
        #expect(try parse(clean) == .object(["schema": .string("pfhost.verify/1"), "ok": .bool(true), "snapshots": .int(1),
                                            "every_blob": .bool(false), "problems": .array([])]))
        let all = try parse(try pfhost("verify", "--all", "--json", "--store", setup.store))
        #expect(all["ok"] == .bool(true) && all["every_blob"] == .bool(true) && all["problems"] == .array([]), "\(all)")
        let store = try SnapshotStore(opening: setup.store)
        let world = try store.snapshot(second).manifest.world.blobs[0].digest
        try FileManager.default.removeItem(atPath: store.blobPath(world))
        let damaged = try pfhost("verify", "--json", "--store", setup.store)
        #expect(damaged.status == 1, "\(damaged)")
        #expect(damaged.stderr == "pfhost: error: 1 problem found in \(setup.store)\n")
        let json = try parse(damaged)
        #expect(json["ok"] == .bool(false) && json["every_blob"] == .bool(false))
        guard case .array(let problems)? = json["problems"], problems.count == 1 else { Issue.record("\(json)"); return }
        #expect(problems[0]["snapshot"] == .string(second.description))
        #expect(problems[0]["file"] == .string(store.blobPath(world)))
    }

    @Test("show --json is still the manifest itself, and text output is unchanged by the flag's absence")
    func show() throws {
        let (setup, first, _) = try chain()
        let output = try pfhost("show", first.description, "--json", "--store", setup.store)
        let manifest = try CanonicalJSON.decode(Manifest.self, from: Array(output.stdout.utf8.dropLast()))
        #expect(try SnapshotStore(opening: setup.store).snapshot(first).manifest == manifest)
        #expect(try parse(output)["schema_version"] == .int(1))
        #expect(try pfhost("init", "--store", setup.store).stdout == setup.store + "\n")
    }
}
