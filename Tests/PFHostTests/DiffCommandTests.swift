import Foundation
import Testing
import PFModel
import PFStore

/// `pfhost diff`, run as a process on snapshots the reference plugins made of an agent whose
/// inputs the tests change between the two.
@Suite("pfhost diff")
struct DiffCommandTests {
    typealias Agent = ReferencePluginTests.Agent

    /// A name that is not UTF-8: `bad`, 0xFF, `name`.
    static let oddName: [UInt8] = Array("bad".utf8) + [0xFF] + Array("name".utf8)

    /// Snapshots the agent and returns the id.
    private func snapshot(_ agent: Agent, _ extra: [String] = [], environment: [String: String] = [:]) throws -> Digest {
        try agent.manifest(["--set", "world.racy_window_ms=0"] + extra, environment: environment).0
    }

    /// Creates `workspace/<oddName>` holding `content`.
    private func writeOddName(_ agent: Agent, _ content: String) throws {
        let path = Array((agent.root + "/workspace/").utf8) + Self.oddName + [0]
        let fd = path.withUnsafeBufferPointer { open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_CREAT | O_WRONLY | O_TRUNC, 0o644) }
        #expect(fd >= 0)
        _ = content.withCString { write(fd, $0, strlen($0)) }
        close(fd)
    }

    /// Two snapshots with known changes in every layer; the second's ledger rewrites the first's last entry.
    private func changedAgent() throws -> (Agent, Digest, Digest) {
        let agent = try Agent()
        let a = try snapshot(agent, environment: ["PFHOST_DIFF_TEST": "one", "PFHOST_DIFF_GONE": "x"])
        // model: a changed file and a new one.
        try agent.write("model/tokenizer.json", try agent.read("model/tokenizer.json") + " ")
        try agent.write("model/notes.txt", "notes\n")
        // cache: seq-b removed, seq-z added with tokens no page had.
        let sequences = try agent.read("kv/sequences.jsonl").split(separator: "\n")
        try agent.write("kv/sequences.jsonl", sequences[0] + "\n" + #"{"id": "seq-z", "tokens": [1, 2, 3], "pages": [0]}"# + "\n")
        // world: one file added, one removed, one rewritten in place with the same size, one with a name that is not UTF-8.
        try agent.write("workspace/notes/new.md", "new\n")
        try FileManager.default.removeItem(atPath: agent.root + "/workspace/src/summarise.py")
        let todo = try agent.read("workspace/notes/todo.txt")
        try agent.write("workspace/notes/todo.txt", String(todo.reversed()))
        try writeOddName(agent, "odd")
        // effects: the last entry rewritten (history not only appended).
        try agent.write("effects/ledger.jsonl", try agent.read("effects/ledger.jsonl").replacingOccurrences(of: #""status":"pending""#, with: #""status":"committed""#))
        // trace: a message appended.
        try agent.write("trace/conversation.jsonl", try agent.read("trace/conversation.jsonl") + #"{"id":"m7","role":"assistant","content":"published"}"# + "\n")
        let b = try snapshot(agent, environment: ["PFHOST_DIFF_TEST": "two", "PFHOST_DIFF_NEW": "y"])
        return (agent, a, b)
    }

    @Test("text: every layer's changes, names escaped, the rewritten ledger said so")
    func text() throws {
        let (agent, a, b) = try changedAgent()
        let output = try pfhost("diff", a.description, String(b.hex.prefix(12)), "--store", agent.store)
        #expect(output.status == 0, "\(output)")
        let lines = output.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "diff \(a.hex.prefix(12)) -> \(b.hex.prefix(12))")
        for expected in [
            "  + notes.txt  (6 B)",
            "  ~ tokenizer.json  (89 B -> 90 B)",
            "  + sequence seq-z  (3 tokens, 1 page)",
            "  + bad\\x{ff}name  (3 B)",
            "  + notes/new.md  (4 B)",
            "  - src/summarise.py  (89 B)",
            "  ~ notes/todo.txt  (content)",
            "  + env PFHOST_DIFF_NEW",
            "  - env PFHOST_DIFF_GONE",
            "  ~ env PFHOST_DIFF_TEST",
            "  - line 4: fx-4 http.post https://api.example.com/reports/7/publish pending",
            "  + line 4: fx-4 http.post https://api.example.com/reports/7/publish committed",
            "  + line 7: m7 assistant \"published\"",
        ] {
            #expect(lines.contains(expected), "missing \(expected) in\n\(output.stdout)")
        }
        #expect(lines.contains { $0.hasPrefix("model    files +1 -0 ~1 changed;") }, "\(output)")
        #expect(lines.contains { $0.hasPrefix("cache    sequences +1 -1 ~0 changed; pages +1 -") }, "\(output)")
        #expect(lines.contains { $0.hasPrefix("world    files +2 -1 ~1 modified;") }, "\(output)")
        #expect(lines.contains { $0.hasPrefix("effects  history rewritten after entry 3: 1 entry removed, 1 entry added (4 -> 4);") }, "\(output)")
        #expect(lines.contains { $0.hasPrefix("trace    1 message appended (6 -> 7);") }, "\(output)")
        // The same snapshot against itself: nothing changed.
        let same = try pfhost("diff", b.description, b.description, "--store", agent.store)
        #expect(same.stdout == "diff \(b.hex.prefix(12)) -> \(b.hex.prefix(12))\n" + LayerKind.allCases.map { $0.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0) + " unchanged\n" }.joined())
    }

    @Test("--json: the whole comparison, names that are not UTF-8 as path_bytes, appended versus rewritten")
    func json() throws {
        let (agent, a, b) = try changedAgent()
        let output = try pfhost("diff", a.description, b.description, "--json", "--store", agent.store)
        #expect(output.status == 0, "\(output)")
        let json = try JSONParser.parse(Array(output.stdout.utf8.dropLast()))
        #expect(json["schema"] == .string("pfhost.diff/1"))
        #expect(json["from"]?["id"] == .string(a.description) && json["to"]?["id"] == .string(b.description))
        let layers = try #require(json["layers"])
        #expect(layers["model"]?["files"]?["added"] == .array([.object([
            "path": .string("notes.txt"), "size": .int(6), "digest": .string(Digest.of(Array("notes\n".utf8)).description)])]))
        guard case .array(let added)? = layers["world"]?["files"]?["added"] else { Issue.record("no world files: \(output)"); return }
        #expect(added.contains { $0["path_bytes"] == .string(Base64.encode(Self.oddName)) && $0["size"] == .int(3) }, "\(added)")
        guard case .array(let modified)? = layers["world"]?["files"]?["modified"] else { Issue.record("no modified files"); return }
        #expect(modified.map { $0["path"] } == [.string("notes/todo.txt")])
        #expect(modified.first?["changes"] == .array([.string("content")]))
        #expect(layers["effects"]?["rewritten"] == .bool(true) && layers["effects"]?["common"] == .int(3))
        guard case .array(let removed)? = layers["effects"]?["removed"] else { Issue.record("no removed entries"); return }
        #expect(removed.first?["fields"]?["status"] == .string("pending") && removed.first?["line"] == .int(4))
        #expect(layers["trace"]?["rewritten"] == .bool(false) && layers["trace"]?["common"] == .int(6))
        guard case .array(let messages)? = layers["trace"]?["added"] else { Issue.record("no messages"); return }
        #expect(messages.map { $0["fields"]?["id"] } == [.string("m7")])
        guard case .array(let sequences)? = layers["cache"]?["sequences"]?["removed"] else { Issue.record("no sequences"); return }
        #expect(sequences.map { $0["id"] } == [.string("seq-b")])
        #expect(layers["cache"]?["pages"]?["added"] == .int(1))
        #expect(layers["model"]?["changed"] == .bool(true))
    }

    @Test("with one snapshot, diff compares it with its first parent; one without a parent is refused, exit 4")
    func againstParent() throws {
        let agent = try Agent()
        let first = try snapshot(agent, ["--tag", "t"])
        try agent.write("trace/conversation.jsonl", try agent.read("trace/conversation.jsonl") + #"{"id":"m7","role":"user","content":"more"}"# + "\n")
        let second = try snapshot(agent, ["--tag", "t"])
        let one = try pfhost("diff", "t", "--store", agent.store)
        #expect(one.status == 0, "\(one)")
        #expect(one.stdout == (try pfhost("diff", first.description, second.description, "--store", agent.store)).stdout)
        #expect(one.stdout.contains("\n  + line 7: m7 user \"more\"\n"), "\(one)")
        let orphan = try pfhost("diff", first.description, "--store", agent.store)
        #expect(orphan.status == 4, "\(orphan)")
        #expect(orphan.stderr == "pfhost: error: snapshot '\(first)' (\(first.hex.prefix(12))) has no parent to compare with; give two snapshots (pfhost diff A B)\n")
    }

    @Test("a ledger only appended to is not rewritten")
    func appendedLedger() throws {
        let agent = try Agent()
        let a = try snapshot(agent)
        let original = try agent.read("effects/ledger.jsonl")
        let last = String(original.split(separator: "\n").last!)
        let next = #"{"id":"fx-5","idempotency_key":"key-5","kind":"fs.write","prev":"sha256:\#(Digest.of(Array(last.utf8)).hex)","status":"pending","target":"x","time":"2026-11-27T11:00:00Z"}"#
        try agent.write("effects/ledger.jsonl", original + next + "\n")
        let b = try snapshot(agent)
        let output = try pfhost("diff", a.description, b.description, "--store", agent.store)
        #expect(output.stdout.contains("\neffects  1 entry appended (4 -> 5); blobs +1 "), "\(output)")
        #expect(output.stdout.contains("\n  + line 5: fx-5 fs.write x pending\n"), "\(output)")
        let json = try JSONParser.parse(Array(try pfhost("diff", a.description, b.description, "--json", "--store", agent.store).stdout.utf8.dropLast()))
        #expect(json["layers"]?["effects"]?["rewritten"] == .bool(false))
        #expect(json["layers"]?["effects"]?["removed"] == .array([]))
    }

    @Test("a local agent against a hosted one: model and cache fields, the agent, and pages not compared")
    func hosted() throws {
        let agent = try Agent()
        let local = try snapshot(agent)
        let output = try run(productsDirectory + "/pfhost", ["snapshot", "--plugins", agent.plugins, "--store", agent.store,
                                                             "--config", repositoryRoot + "/Examples/hosted-agent/pfhost.json"])
        let hosted = try Digest(parsing: output.stdout.trimmingCharacters(in: .newlines))
        let diff = try pfhost("diff", local.description, hosted.description, "--store", agent.store)
        #expect(diff.status == 0, "\(diff)")
        for expected in [
            "agent    report-assistant 0.3.0 -> support-assistant 1.2.0",
            "  ~ format safetensors -> hosted",
            "  ~ provider none -> openai",
            "  ~ hosted false -> true",
            "  ~ dtype f16 -> none",
            "  note: pages not compared: B's cache is hosted (no index)",
            "  - model.safetensors  (25.4 KiB)",
        ] {
            #expect(diff.stdout.split(separator: "\n").contains(Substring(expected)), "missing \(expected) in\n\(diff.stdout)")
        }
        let json = try JSONParser.parse(Array(try pfhost("diff", local.description, hosted.description, "--json", "--store", agent.store).stdout.utf8.dropLast()))
        #expect(json["layers"]?["cache"]?["fields"]?["hosted"] == .object(["from": .string("false"), "to": .string("true")]))
        #expect(json["layers"]?["cache"]?["pages"] == .null)
        #expect(json["layers"]?["model"]?["fields"]?["revision"] == .object(["from": .null, "to": .string("2025-04-14")]))
    }

    @Test("a damaged or missing blob is a one-line error naming it, exit 3; an unknown reference exits 4")
    func damagedBlob() throws {
        let (agent, a, b) = try changedAgent()
        let store = try SnapshotStore(opening: agent.store)
        let ledger = try store.snapshot(b).manifest.effects.content.ledger
        let path = store.blobPath(ledger)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 0x20
        try FileManager.default.removeItem(atPath: path)
        _ = FileManager.default.createFile(atPath: path, contents: bytes)
        let damaged = try pfhost("diff", a.description, b.description, "--store", agent.store)
        #expect(damaged.status == 3, "\(damaged)")
        #expect(damaged.stdout == "")
        #expect(damaged.stderr == "pfhost: error: \(path) is corrupt: its content does not match its digest (run 'pfhost verify --all' to list every problem)\n")
        try FileManager.default.removeItem(atPath: path)
        let missing = try pfhost("diff", a.description, b.description, "--json", "--store", agent.store)
        #expect(missing.status == 3 && missing.stderr == "pfhost: error: blob \(ledger) is not in \(agent.store)\n", "\(missing)")
        let unknown = try pfhost("diff", a.description, "nope", "--store", agent.store)
        #expect(unknown.status == 4 && unknown.stderr.hasPrefix("pfhost: error: no snapshot 'nope' in "), "\(unknown)")
    }

    @Test("layers whose blobs are in formats diff does not read are compared by their manifests, with a note")
    func foreignFormats() throws {
        let setup = SnapshotCommandTests.Setup()
        let first = try Digest(parsing: setup.snapshot(["--tag", "t"]).stdout.trimmingCharacters(in: .newlines))
        let second = try Digest(parsing: setup.snapshot(["--tag", "t", "--set", "world.content=v2"]).stdout.trimmingCharacters(in: .newlines))
        let output = try pfhost("diff", first.description, second.description, "--store", setup.store)
        #expect(output.status == 0, "\(output)")
        #expect(output.stdout.contains("\n  note: files not compared: A's tree index sha256:"), "\(output)")
        #expect(output.stdout.contains(" is not JSON: "), "\(output)")
    }
}
