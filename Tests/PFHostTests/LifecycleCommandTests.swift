import Foundation
import Testing
import PFModel
import PFStore

/// `pfhost tag`, `untag`, `list`, `forget`, `gc` and `migrate`, run as processes.
@Suite("Lifecycle commands")
struct LifecycleCommandTests {
    typealias Setup = SnapshotCommandTests.Setup

    /// Takes a snapshot whose trace holds `content`, created at `day` days after a fixed epoch.
    private func take(_ setup: Setup, _ content: String, day: Int = 0, second: Int = 0, _ extra: [String] = ["--tag", "main"]) throws -> Digest {
        let output = try setup.snapshot(["--set", "trace.content=\(content)"] + extra,
                                        environment: ["SOURCE_DATE_EPOCH": "\(1_790_000_000 + day * 86_400 + second)"])
        #expect(output.status == 0, "\(output)")
        return try Digest(parsing: output.stdout.trimmingCharacters(in: .newlines))
    }

    private func json(_ output: ProcessOutput) throws -> JSONValue {
        #expect(output.status == 0, "\(output)")
        return try JSONParser.parse(Array(output.stdout.utf8.dropLast()))
    }

    private func ids(_ value: JSONValue?) -> [String] {
        if case .array(let items)? = value { return items.compactMap { $0["id"]?.stringValue ?? $0.stringValue } }
        return []
    }

    @Test("tag, untag and list, in text and JSON")
    func tagAndList() throws {
        let setup = Setup()
        let a = try take(setup, "a", day: 0), b = try take(setup, "b", day: 1), c = try take(setup, "c", day: 2)
        #expect(try pfhost("tag", "main~2", "first", "--store", setup.store).stdout == "\(a)\n")
        let list = try json(pfhost("list", "--json", "--store", setup.store))
        #expect(list["schema"] == .string("pfhost.list/1"))
        #expect(ids(list["snapshots"]) == [c, b, a].map(\.description))
        guard case .array(let rows)? = list["snapshots"] else { Issue.record("no rows"); return }
        #expect(rows[0]["tags"] == .array([.string("main")]) && rows[2]["tags"] == .array([.string("first")]))
        #expect(rows[0]["parents"] == .array([.string(b.description)]))
        if case .int(let logical)? = rows[0]["logical_bytes"], case .int(let added)? = rows[0]["added_bytes"] {
            #expect(added > 0 && added < logical)
        } else { Issue.record("no sizes: \(rows[0])") }
        let text = try pfhost("list", "--store", setup.store)
        #expect(text.stdout.split(separator: "\n").first?.hasPrefix(String(c.hex.prefix(12))) == true, "\(text)")
        #expect(text.stdout.split(separator: "\n").first?.hasSuffix("(main)") == true, "\(text)")

        let taken = try pfhost("tag", "main", "first", "--store", setup.store)
        #expect(taken.status == 64 && taken.stderr == "pfhost: error: tag 'first' already names \(a); pass --force to move it\n", "\(taken)")
        #expect(try pfhost("tag", "main", "first", "--force", "--store", setup.store).status == 0)
        let hex = try pfhost("tag", "main", "0123456789abcdef", "--store", setup.store)
        #expect(hex.status == 64 && hex.stderr.contains("would read as a content-id prefix"), "\(hex)")
        #expect(try json(pfhost("untag", "first", "--json", "--store", setup.store))["id"] == .string(c.description))
        let missing = try pfhost("untag", "first", "--store", setup.store)
        #expect(missing.status == 4 && missing.stderr == "pfhost: error: no tag 'first' in \(setup.store) (see 'pfhost list' for the tags it holds)\n", "\(missing)")
        #expect(ids(try json(pfhost("list", "--json", "--tag", "main", "--store", setup.store))["snapshots"]).count == 3)
        #expect(ids(try json(pfhost("list", "--json", "--agent-kind", "no-such-kind", "--store", setup.store))["snapshots"]).isEmpty)
        #expect(try pfhost("show", String(b.hex.prefix(7)), "--store", setup.store).stdout.hasPrefix("snapshot \(b)\n"))
    }

    @Test("list leaves out a snapshot whose documents are damaged, saying which, lists the others, and exits 3")
    func listAroundDamage() throws {
        let setup = Setup()
        let a = try take(setup, "a", day: 0), b = try take(setup, "b", day: 1), c = try take(setup, "c", day: 2)
        // b's trace layer manifest, its own (the trace differs in each snapshot), removed.
        let store = try SnapshotStore(opening: setup.store)
        let index = try CanonicalJSON.decode(OCIIndex.self, from: store.readBlob(b))
        try FileManager.default.removeItem(atPath: store.blobPath(index.manifests[4].digest))
        let output = try pfhost("list", "--json", "--store", setup.store)
        #expect(output.status == 3, "\(output)")
        #expect(ids(try JSONParser.parse(Array(output.stdout.utf8.dropLast()))["snapshots"]) == [c, a].map(\.description))
        #expect(output.stderr.contains("pfhost: warning: snapshot \(b.hex.prefix(12)) is not listed: blob \(index.manifests[4].digest) is not in"), "\(output)")
    }

    @Test("snapshot --tag with a name that cannot be a tag is bad usage (exit 64), as for pfhost tag: nothing is captured or committed",
          arguments: [["--tag", ".bad"], ["--tag", "aaaaaaa"], ["--tag", String(repeating: "t", count: 129)], ["--tag=-x"], ["--tag", "a/b"]])
    func snapshotInvalidTag(_ option: [String]) throws {
        let setup = SnapshotCommandTests.Setup()
        let output = try setup.snapshot(option)
        #expect(output.status == 64, "\(output)")
        #expect(output.stderr.hasPrefix("pfhost: error: invalid tag '"), "\(output)")
        #expect(!FileManager.default.fileExists(atPath: setup.store), "\(output)")
    }

    @Test("an empty reference is bad usage (exit 64), not a missing snapshot")
    func emptyReference() throws {
        let setup = SnapshotCommandTests.Setup()
        #expect(try setup.snapshot(["--tag", "t"]).status == 0)
        for arguments in [["snapshot", "--plugins", setup.plugins, "--parent", ""], ["show", ""], ["tag", "", "u"]] {
            let output = try pfhost(arguments + ["--store", setup.store])
            #expect(output.status == 64 && output.stderr.contains("an empty reference names no snapshot"), "\(arguments): \(output)")
        }
    }

    @Test("an empty --store or --plugins is bad usage (exit 64): nothing is made in the working directory",
          arguments: [["list", "--store", ""], ["init", "--store", ""], ["log", "--store", ""], ["snapshot", "--plugins", "", "--store", "s"],
                      ["snapshot", "--plugins", "p", "--store", ""], ["plugins", "--plugins", ""],
                      ["restore", "t", "--store", "s", "--plugins", "p", "--to", ""]])
    func emptyDirectoryOption(_ arguments: [String]) throws {
        let dir = TemporaryDirectory()
        let output = try pfhost(arguments, currentDirectory: dir.path)
        #expect(output.status == 64, "\(output)")
        #expect(output.stderr.contains("needs a directory; an empty value names none"), "\(output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test("a tag never stands in for a content id: tags of 7+ hex digits (either case) are refused; ids, prefixes and TAG~N win over names another tool wrote")
    func tagsCannotShadowIDs() throws {
        let setup = Setup()
        let a = try take(setup, "a", day: 0), b = try take(setup, "b", day: 1)
        for name in [String(a.hex.prefix(7)), String(a.hex.prefix(12)).uppercased()] {
            let refused = try pfhost("tag", "main", name, "--store", setup.store)
            #expect(refused.status == 64 && refused.stderr.contains("7 or more hex digits (in either case) would read as a content-id prefix"), "\(refused)")
        }
        // Tags another tool wrote into index.json under an id's, a prefix's and a TAG~N's names, all on b.
        let path = setup.store + "/index.json"
        var index = try JSONParser.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
        guard case .object(var top) = index, case .array(var entries)? = top["manifests"], case .object(var entry)? = entries.first,
              case .object(var annotations)? = entry["annotations"] else { Issue.record("index: \(index)"); return }
        for name in [a.description, String(a.hex.prefix(9)), "main~1"] {
            annotations["org.opencontainers.image.ref.name"] = .string(name)
            entry["annotations"] = .object(annotations)
            entries.insert(.object(entry), at: 0)
        }
        top["manifests"] = .array(entries)
        index = .object(top)
        try Data(CanonicalJSON.encode(index)).write(to: URL(fileURLWithPath: path))
        for reference in [a.description, String(a.hex.prefix(9)), "main~1"] {
            let shown = try pfhost("show", reference, "--store", setup.store)
            #expect(shown.stdout.hasPrefix("snapshot \(a)\n"), "\(reference): \(shown)")
        }
        let dryRun = try pfhost("forget", String(a.hex.prefix(9)), "--dry-run", "--store", setup.store)
        #expect(dryRun.stdout.contains(String(a.hex.prefix(12))) && !dryRun.stdout.contains(String(b.hex.prefix(12))), "\(dryRun)")
    }

    @Test("what a store says is escaped in error messages: an artifactType with terminal escapes cannot drive the terminal")
    func storeTextEscaped() throws {
        let setup = Setup()
        _ = try take(setup, "a")
        let path = setup.store + "/index.json"
        let index = try #require(String(data: try Data(contentsOf: URL(fileURLWithPath: path)), encoding: .utf8))
        let hostile = index.replacingOccurrences(of: #""dev.pfhost.store.format":"2""#, with: #""dev.pfhost.store.format":"3\u001b[31m\u0007""#)
        #expect(hostile != index)
        try Data(hostile.utf8).write(to: URL(fileURLWithPath: path))
        let output = try pfhost("list", "--store", setup.store)
        #expect(output.status == 3, "\(output)")
        #expect(output.stderr.contains("says store format 3\\e[31m\\u{7}"), "\(output)")
        #expect(!output.stderr.unicodeScalars.contains { $0.value == 0x1b || $0.value == 0x07 }, "\(output)")
    }

    @Test("forget and gc reclaim exactly the bytes no remaining snapshot reaches")
    func forgetAndCollect() throws {
        let setup = Setup()
        let a = try take(setup, String(repeating: "first trace ", count: 500), day: 0)
        let b = try take(setup, "second trace", day: 1)
        let expected: Int64
        do {
            let store = try SnapshotStore(opening: setup.store)
            let kept = Set(try store.snapshot(b).closure.map(\.digest))
            expected = try store.snapshot(a).closure.filter { !kept.contains($0.digest) }.reduce(0) { $0 + $1.size }
        }
        let forget = try json(pfhost("forget", "main~1", "--json", "--store", setup.store))
        #expect(forget["forgotten"] == .array([.string(a.description)]) && forget["schema"] == .string("pfhost.forget/1"))
        let dry = try json(pfhost("gc", "--dry-run", "--json", "--store", setup.store))
        #expect(dry["bytes_removed"] == .int(expected) && dry["dry_run"] == .bool(true))
        let gc = try json(pfhost("gc", "--json", "--store", setup.store))
        #expect(gc["schema"] == .string("pfhost.gc/1") && gc["bytes_removed"] == .int(expected) && gc["snapshots"] == .int(1))
        #expect(try json(pfhost("gc", "--json", "--store", setup.store))["blobs_removed"] == .int(0))
        #expect(try pfhost("verify", "--all", "--store", setup.store).status == 0)
        let log = try pfhost("log", "main", "--store", setup.store)
        #expect(log.stdout.hasSuffix("\(a.hex.prefix(12))  (not in this store)\n"), "\(log)")
    }

    @Test("forget --keep-daily keeps the newest snapshot of each day; tagged snapshots stay; --dry-run changes nothing")
    func keepPolicy() throws {
        let setup = Setup()
        let early = try take(setup, "1", day: 0, second: 0, [])
        let late = try take(setup, "2", day: 0, second: 60, [])
        let next = try take(setup, "3", day: 1, second: 0, [])
        let tagged = try take(setup, "4", day: 0, second: 30, ["--tag", "keep"])
        let dry = try json(pfhost("forget", "--keep-daily", "2", "--dry-run", "--json", "--store", setup.store))
        #expect(dry["forgotten"] == .array([.string(early.description)]), "\(dry)")
        #expect(ids(dry["kept"]) == [next, late, tagged].map(\.description))
        #expect(try SnapshotStore(opening: setup.store).history().count == 4)
        let done = try pfhost("forget", "--keep-last", "1", "--store", setup.store)
        #expect(done.stdout.hasSuffix("forgot 2 snapshots, kept 2; run 'pfhost gc' to reclaim their space\n"), "\(done)")
        #expect(Set(try SnapshotStore(opening: setup.store).history().map(\.id)) == [next, tagged])
        let both = try pfhost("forget", "main", "--keep-last", "1", "--store", setup.store)
        #expect(both.status == 64, "\(both)")
    }

    @Test("gc in a loop beside concurrent snapshots and forgets: every snapshot left verifies")
    func gcBesideSnapshots() throws {
        let setup = Setup()
        _ = try take(setup, "seed")
        let group = DispatchGroup()
        let failures = IngestHygieneTests.FailureLog()
        let running = ManagedFlag()
        for writer in 0..<2 {
            group.enter()
            DispatchQueue.global().async {
                defer { group.leave() }
                for n in 0..<12 {
                    do {
                        let output = try setup.snapshot(["--set", "trace.content=writer \(writer) step \(n)", "--tag", "w\(writer)"])
                        if output.status != 0 { failures.add("snapshot: \(output)") }
                    } catch { failures.add("\(error)") }
                }
            }
        }
        let collector = DispatchGroup()
        collector.enter()
        DispatchQueue.global().async {
            defer { collector.leave() }
            var rounds = 0
            while running.value || rounds < 3 {
                rounds += 1
                do {
                    let forget = try pfhost("forget", "--keep-last", "3", "--store", setup.store)
                    if forget.status != 0 { failures.add("forget: \(forget)") }
                    let gc = try pfhost("gc", "--store", setup.store)
                    if gc.status != 0 { failures.add("gc: \(gc)") }
                } catch { failures.add("\(error)") }
            }
        }
        group.wait()
        running.value = false
        collector.wait()
        #expect(failures.all == [])
        let verify = try pfhost("verify", "--all", "--store", setup.store)
        #expect(verify.status == 0, "\(verify)")
        for tag in ["w0", "w1"] {
            #expect(try pfhost("show", tag, "--store", setup.store).status == 0)
        }
    }

    @Test("a format-1 store: read as it is, upgraded by migrate (same ids), and by the first write, which says so")
    func migration() throws {
        let setup = Setup()
        _ = try take(setup, "a", day: 0)
        _ = try take(setup, "b", day: 1)
        let formatOne = try FormatOneStore.downgrade(setup.store)
        let before = setup.index
        #expect(try pfhost("log", "main", "--store", setup.store).stdout.split(separator: "\n").count == 2)
        #expect(try pfhost("show", "main", "--store", setup.store).stdout.hasPrefix("snapshot \(formatOne[1])\n"))
        #expect(try pfhost("verify", "--all", "--store", setup.store).status == 0)
        #expect(setup.index == before)

        let copy = setup.dir.file("copy")
        try FileManager.default.copyItem(atPath: setup.store, toPath: copy)
        let migrate = try json(pfhost("migrate", "--json", "--store", copy))
        #expect(migrate == .object(["schema": .string("pfhost.migrate/1"), "from": .int(1), "to": .int(2), "snapshots": .int(2), "tags": .int(1)]))
        #expect(ids(try json(pfhost("list", "--json", "--store", copy))["snapshots"]) == formatOne.reversed().map(\.description))
        #expect(try pfhost("migrate", "--store", copy).stdout == "\(copy) is already store format 2\n")

        let write = try setup.snapshot(["--tag", "main"])
        #expect(write.status == 0, "\(write)")
        #expect(write.stderr.contains("pfhost: upgraded \(setup.store) to store format 2 (2 snapshots moved from index.json to ingest/journal.v2)"), "\(write)")
        let id = try Digest(parsing: write.stdout.trimmingCharacters(in: .newlines))
        #expect(try SnapshotStore(opening: setup.store).snapshot(id).manifest.parents == [formatOne[1]])
        #expect(try pfhost("log", "main", "--store", setup.store).stdout.split(separator: "\n").count == 3)
        #expect(try pfhost("verify", "--all", "--store", setup.store).status == 0)
    }
}

/// A flag shared between threads.
final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var state = true
    var value: Bool {
        get { lock.withLock { state } }
        set { lock.withLock { state = newValue } }
    }
}
