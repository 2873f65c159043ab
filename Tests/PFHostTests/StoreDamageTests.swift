import Foundation
import Testing
import PFModel
import PFStore
import PFTestSupport

/// What the lifecycle commands (`list`, `forget`, `gc`, `verify`, `tag`, `untag`) do with a store
/// someone forged or damaged: journal lines, documents, index.json. Run as processes.
@Suite("Store damage and the lifecycle commands")
struct StoreDamageTests {
    typealias Setup = SnapshotCommandTests.Setup

    /// Takes a snapshot whose trace holds `content`, created `day` days after a fixed epoch.
    private func take(_ setup: Setup, _ content: String, day: Int = 0, second: Int = 0, _ extra: [String] = [],
                      epoch: Int = 1_790_000_000) throws -> Digest {
        let output = try setup.snapshot(["--set", "trace.content=\(content)"] + extra,
                                        environment: ["SOURCE_DATE_EPOCH": "\(epoch + day * 86_400 + second)"])
        #expect(output.status == 0, "\(output)")
        return try Digest(parsing: output.stdout.trimmingCharacters(in: .newlines))
    }

    private func json(_ output: ProcessOutput) throws -> JSONValue {
        #expect(output.status == 0, "\(output)")
        return try JSONParser.parse(Array(output.stdout.utf8.dropLast()))
    }

    private func listed(_ setup: Setup) throws -> [String] {
        let list = try json(pfhost("list", "--json", "--store", setup.store))
        return list["snapshots"]?.items?.compactMap { $0["id"]?.stringValue } ?? []
    }

    private func journal(_ setup: Setup) -> String { setup.store + "/ingest/journal.v2" }

    /// Rewrites the journal's lines with `change`.
    private func editJournal(_ setup: Setup, _ change: (inout [String]) -> Void) throws {
        var lines = try String(contentsOfFile: journal(setup), encoding: .utf8).split(separator: "\n").map(String.init)
        change(&lines)
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: journal(setup)))
    }

    /// The number of the journal line that adds `id`, from 0.
    private func line(adding id: Digest, in lines: [String]) -> Int? {
        lines.firstIndex { $0.contains(id.description) && $0.contains(#""op":"add""#) }
    }

    // MARK: Forged creation times

    @Test("a journal line whose created is not a creation time is damaged: list and forget skip it and say so, verify reports it, gc refuses",
          arguments: ["99999-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "2026-02-30T00:00:00Z", "yesterday", "2026-11-27T20:25:44+01:00"])
    func forgedCreated(_ forged: String) throws {
        let setup = Setup()
        let a = try take(setup, "a", day: 0), b = try take(setup, "b", day: 1), c = try take(setup, "c", day: 2)
        try editJournal(setup) { lines in
            let number = line(adding: a, in: lines)!
            lines[number] = lines[number].replacing(#/"created":"[^"]*"/#, with: "\"created\":\"\(forged)\"")
        }
        let list = try pfhost("list", "--json", "--store", setup.store)
        #expect(try json(list)["snapshots"]?.items?.compactMap { $0["id"]?.stringValue } == [c, b].map(\.description))
        #expect(list.stderr.contains("pfhost: warning: \(journal(setup)) line 1 is damaged: created '\(forged)' is not an RFC 3339 UTC time"), "\(list)")

        let forget = try json(pfhost("forget", "--keep-last", "1", "--dry-run", "--json", "--store", setup.store))
        #expect(forget["forgotten"] == .array([.string(b.description)]), "\(forget)")

        let verify = try pfhost("verify", "--store", setup.store)
        #expect(verify.status == 1 && verify.stdout.contains("\(journal(setup)): line 1 is damaged: created '\(forged)'"), "\(verify)")

        let blobs = setup.blobCount
        let gc = try pfhost("gc", "--store", setup.store)
        #expect(gc.status == 3, "\(gc)")
        #expect(gc.stderr.hasPrefix("pfhost: error: \(journal(setup)) is corrupt: line 1 is damaged: created '\(forged)'"), "\(gc)")
        #expect(gc.stderr.contains("gc removes nothing while the history is damaged"), "\(gc)")
        #expect(setup.blobCount == blobs)
    }

    @Test("a journal line with a well-formed but false created decides nothing: list and forget rank by the snapshot's own time, verify reports the disagreement")
    func falseCreated() throws {
        let setup = Setup()
        let a = try take(setup, "a", day: 0), b = try take(setup, "b", day: 1), c = try take(setup, "c", day: 2)
        try editJournal(setup) { lines in
            let number = line(adding: a, in: lines)!
            lines[number] = lines[number].replacing(#/"created":"[^"]*"/#, with: #""created":"9999-12-31T23:59:59Z""#)
        }
        #expect(try listed(setup) == [c, b, a].map(\.description))
        let forget = try pfhost("forget", "--keep-last", "1", "--dry-run", "--json", "--store", setup.store)
        #expect(try json(forget)["forgotten"] == .array([.string(b.description), .string(a.description)]), "\(forget)")
        #expect(forget.stderr.contains("the journal records it as created '9999-12-31T23:59:59Z'"), "\(forget)")
        let verify = try pfhost("verify", "--store", setup.store)
        #expect(verify.status == 1 && verify.stdout.contains("the history records it as created '9999-12-31T23:59:59Z', the snapshot says"), "\(verify)")
    }

    @Test("a snapshot dated more than a day ahead is kept by forget --keep-* and named, and ranks nothing out")
    func futureSnapshot() throws {
        let setup = Setup()
        _ = try take(setup, "a", day: 0)
        let b = try take(setup, "b", day: 1)
        let future = try take(setup, "f", epoch: Int(Timestamp.latest))
        let forget = try pfhost("forget", "--keep-last", "1", "--dry-run", "--json", "--store", setup.store)
        let plan = try json(forget)
        #expect(plan["kept"] == .array([.string(b.description), .string(future.description)]), "\(plan)")
        #expect(forget.stderr.contains("pfhost: warning: kept \(future.hex.prefix(12)): it says it was created '9999-12-31T23:59:59Z', more than a day from now"), "\(forget)")
    }

    // MARK: gc against damaged documents

    /// Writes `bytes` as a blob of the store and returns its descriptor's digest and size.
    private func putBlob(_ setup: Setup, _ bytes: [UInt8]) throws -> (digest: Digest, size: Int) {
        let digest = Digest.of(bytes)
        let path = setup.store + "/blobs/sha256/" + digest.hex
        if !FileManager.default.fileExists(atPath: path) { try Data(bytes).write(to: URL(fileURLWithPath: path)) }
        return (digest, bytes.count)
    }

    private func readJSON(_ setup: Setup, _ digest: Digest) throws -> [String: JSONValue] {
        let value = try JSONParser.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: setup.store + "/blobs/sha256/" + digest.hex))))
        guard case .object(let members) = value else { throw CocoaError(.fileReadCorruptFile) }
        return members
    }

    private func descriptor(_ mediaType: String, _ blob: (digest: Digest, size: Int)) -> JSONValue {
        .object(["mediaType": .string(mediaType), "digest": .string(blob.digest.description), "size": .int(Int64(blob.size))])
    }

    /// A copy of snapshot `base` whose layer manifest of `kind` (the trace's by default) `change`
    /// rewrote, journaled as an untagged snapshot. Returns the new layer manifest's digest and the new root.
    private func forgeTraceLayer(_ setup: Setup, base: Digest, kind: LayerKind = .trace,
                                 _ change: (inout [String: JSONValue]) throws -> Void) throws -> (layer: Digest, root: Digest) {
        let position = LayerKind.allCases.firstIndex(of: kind)!
        var root = try readJSON(setup, base)
        guard case .array(var entries)? = root["manifests"], case .object(var entry) = entries[position],
              let layerText = entry["digest"]?.stringValue else { throw CocoaError(.fileReadCorruptFile) }
        var layer = try readJSON(setup, try Digest(parsing: layerText))
        try change(&layer)
        let newLayer = try putBlob(setup, CanonicalJSON.encode(JSONValue.object(layer)))
        entry["digest"] = .string(newLayer.digest.description)
        entry["size"] = .int(Int64(newLayer.size))
        entries[position] = .object(entry)
        root["manifests"] = .array(entries)
        let newRoot = try putBlob(setup, CanonicalJSON.encode(JSONValue.object(root)))
        let created = try SnapshotStore(opening: setup.store).snapshot(base).manifest.createdAt
        let line = CanonicalJSON.encode(JSONValue.object([
            "op": .string("add"), "digest": .string(newRoot.digest.description), "mediaType": .string(MediaType.ociIndex),
            "size": .int(Int64(newRoot.size)), "created": .string(created),
        ]))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: journal(setup)))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(line + [0x0a]))
        try handle.close()
        return (newLayer.digest, newRoot.digest)
    }

    @Test("gc refuses, naming the document, when a layer config of a snapshot list shows names a blob its layer manifest does not list (before, gc removed that blob)")
    func gcRefusesUnlistedBlob() throws {
        let setup = Setup()
        let a = try take(setup, "a", ["--tag", "main"])
        let extra = try putBlob(setup, Array("a blob only a forged layer config names".utf8))
        // The trace layer config also names `extra`, which its layer manifest does not list.
        let (layer, _) = try forgeTraceLayer(setup, base: a) { layer in
            guard let configText = layer["config"]?["digest"]?.stringValue else { throw CocoaError(.fileReadCorruptFile) }
            var config = try readJSON(setup, try Digest(parsing: configText))
            guard case .array(var blobs)? = config["blobs"] else { throw CocoaError(.fileReadCorruptFile) }
            blobs.append(.object(["media_type": .string("application/octet-stream"), "digest": .string(extra.digest.description),
                                  "size": .int(Int64(extra.size))]))
            config["blobs"] = .array(blobs)
            layer["config"] = descriptor("application/vnd.pfhost.layer.v1+json", try putBlob(setup, CanonicalJSON.encode(JSONValue.object(config))))
        }
        let gc = try pfhost("gc", "--store", setup.store)
        #expect(gc.status == 3, "\(gc)")
        #expect(gc.stderr.hasPrefix("pfhost: error: \(setup.store)/blobs/sha256/\(layer.hex) is corrupt: the trace layer's blob \(extra.digest)"), "\(gc)")
        #expect(FileManager.default.fileExists(atPath: setup.store + "/blobs/sha256/" + extra.digest.hex))
        // list reads no layer config, so it shows the forged snapshot; gc, which cannot tell what
        // the layer needs, keeps everything.
        #expect(try listed(setup).count == 2)
    }

    @Test("gc refuses when the journal records a root of another size than the blob's")
    func gcRefusesRootSize() throws {
        let setup = Setup()
        let a = try take(setup, "a")
        try editJournal(setup) { lines in
            let number = line(adding: a, in: lines)!
            lines[number] = lines[number].replacing(#/"size":\d+/#, with: #""size":1"#)
        }
        let blobs = setup.blobCount
        let gc = try pfhost("gc", "--store", setup.store)
        #expect(gc.status == 3 && gc.stderr.contains("records snapshot \(a) as application/vnd.oci.image.index.v1+json of 1 bytes"), "\(gc)")
        #expect(setup.blobCount == blobs)
        #expect(try pfhost("verify", "--store", setup.store).status == 1)
    }

    @Test("a layer manifest giving a blob a negative size is damage for list and gc alike")
    func negativeSize() throws {
        let setup = Setup()
        let a = try take(setup, "a", ["--tag", "main"])
        _ = try forgeTraceLayer(setup, base: a) { layer in
            guard case .array(var layers)? = layer["layers"], case .object(var first) = layers[0] else { throw CocoaError(.fileReadCorruptFile) }
            first["size"] = .int(-5)
            layers[0] = .object(first)
            layer["layers"] = .array(layers)
        }
        for command in [["list"], ["gc"]] {
            let output = try pfhost(command + ["--store", setup.store])
            #expect(output.status == 3 && output.stderr.contains("it gives blob") && output.stderr.contains("the size -5"), "\(command): \(output)")
        }
    }

    // MARK: Counts a layer declares

    /// Rewrites a layer manifest (in `forgeTraceLayer`) so that its config's `field` blob is
    /// `content` (with `mediaType`), and `declared` is set in the config as `change` says.
    private func replaceBlob(_ setup: Setup, in layer: inout [String: JSONValue], field: (inout [String: JSONValue], String) -> Void,
                             content: String, mediaType: String, declare: (inout [String: JSONValue]) -> Void) throws {
        let blob = try putBlob(setup, Array(content.utf8))
        guard let configText = layer["config"]?["digest"]?.stringValue else { throw CocoaError(.fileReadCorruptFile) }
        var config = try readJSON(setup, try Digest(parsing: configText))
        config["blobs"] = .array([.object(["media_type": .string(mediaType), "digest": .string(blob.digest.description), "size": .int(Int64(blob.size))])])
        field(&config, blob.digest.description)
        declare(&config)
        layer["config"] = descriptor("application/vnd.pfhost.layer.v1+json", try putBlob(setup, CanonicalJSON.encode(JSONValue.object(config))))
        layer["layers"] = .array([descriptor(mediaType, blob)])
    }

    @Test("verify reports a layer whose declared counts its blobs contradict, naming the snapshot and the layer; true counts pass")
    func declaredCounts() throws {
        let setup = Setup()
        let a = try take(setup, "a", ["--tag", "main"])
        let trace = "{\"id\":\"1\"}\n{\"id\":\"2\"}\n{\"id\":\"3\"}\n"
        let tree = #"{"entries":[{"path":"a","size":5,"type":"file"},{"path":"b","size":7,"type":"file"},{"path":"d","type":"dir"}],"format":"pfhost-world-tree","packs":[],"version":1}"#
        func forge(messages: Int, entries: Int, bytes: Int) throws -> (trace: Digest, world: Digest, root: Digest) {
            let (traceLayer, traced) = try forgeTraceLayer(setup, base: a) { layer in
                try replaceBlob(setup, in: &layer, field: { $0["messages"] = .string($1) }, content: trace, mediaType: "application/x-ndjson") {
                    $0["message_count"] = .int(Int64(messages))
                }
            }
            let (worldLayer, root) = try forgeTraceLayer(setup, base: traced, kind: .world) { layer in
                try replaceBlob(setup, in: &layer, field: { config, digest in
                    guard case .object(var tree)? = config["tree"] else { return }
                    tree["index"] = .string(digest)
                    tree["entry_count"] = .int(Int64(entries))
                    tree["total_bytes"] = .int(Int64(bytes))
                    config["tree"] = .object(tree)
                }, content: tree, mediaType: "application/vnd.pfhost.world-tree.v1+json") { _ in }
            }
            return (traceLayer, worldLayer, root)
        }
        _ = try forge(messages: 3, entries: 3, bytes: 12)
        let honest = try pfhost("verify", "--store", setup.store)
        #expect(honest.status == 0, "\(honest)")
        let (traceLayer, worldLayer, root) = try forge(messages: 2, entries: 10_000_000, bytes: 13)
        let lying = try pfhost("verify", root.description, "--store", setup.store)
        #expect(lying.status == 1, "\(lying)")
        let prefix = "snapshot \(root.hex.prefix(16)): \(setup.store)/blobs/sha256/"
        #expect(lying.stdout.contains(prefix + "\(traceLayer.hex): the trace layer: the layer declares message_count 2, its blob holds 3 messages"), "\(lying)")
        #expect(lying.stdout.contains(prefix + "\(worldLayer.hex): the world layer: the layer declares entry_count 10000000, its blob holds 3 entries"), "\(lying)")
        #expect(lying.stdout.contains("the world layer: the layer declares total_bytes 13, its tree's files hold 12"), "\(lying)")
    }

    // MARK: Journal size

    @Test("a journal line over 64 KiB is damaged, skipped and reported, not read whole; a commit after a long cut line starts a line of its own")
    func longLines() throws {
        let setup = Setup()
        let a = try take(setup, "a", day: 0)
        let long = #"{"op":"add","pad":""# + String(repeating: "x", count: 100_000) + "\"}"
        try editJournal(setup) { lines in lines.append(long) }
        let b = try take(setup, "b", day: 1)
        let list = try pfhost("list", "--json", "--store", setup.store)
        #expect(try json(list)["snapshots"]?.items?.compactMap { $0["id"]?.stringValue } == [b, a].map(\.description))
        #expect(list.stderr.contains("line 2 is damaged: longer than 65536 bytes"), "\(list)")
        #expect(try pfhost("gc", "--store", setup.store).status == 3)

        // An append cut short 1.5 MiB into a line: the next commit cuts it off, whatever its length.
        try editJournal(setup) { lines in lines.remove(at: 1) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: journal(setup)))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(repeating: UInt8(ascii: "y"), count: 3 << 19))
        try handle.close()
        let c = try take(setup, "c", day: 2)
        #expect(try listed(setup) == [c, b, a].map(\.description))
        #expect(try pfhost("verify", "--store", setup.store).status == 0)
    }

    // MARK: Duplicate tags

    @Test("a tag index.json lists twice: the first entry wins for every command, the other is an untagged snapshot gc keeps; verify reports it; tag --force settles it")
    func duplicateTags() throws {
        let setup = Setup()
        let a = try take(setup, "a", day: 0, ["--tag", "main"])
        let b = try take(setup, "b", day: 1, ["--tag", "other"])
        // Another tool's index: b's entry renamed 'main', after a's.
        let path = setup.store + "/index.json"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try Data(text.replacingOccurrences(of: #""org.opencontainers.image.ref.name":"other""#,
                                           with: #""org.opencontainers.image.ref.name":"main""#).utf8).write(to: URL(fileURLWithPath: path))
        #expect(try pfhost("show", "main", "--store", setup.store).stdout.hasPrefix("snapshot \(a)\n"))
        let list = try pfhost("list", "--json", "--store", setup.store)
        let rows = try json(list)["snapshots"]?.items ?? []
        #expect(rows.map { $0["tags"] } == [.array([]), .array([.string("main")])], "\(list)")
        #expect(list.stderr.contains("tag 'main' is listed 2 times in index.json; the first entry (\(a.hex.prefix(12))) wins"), "\(list)")
        let verify = try pfhost("verify", "--store", setup.store)
        #expect(verify.status == 1 && verify.stdout.contains("tag 'main' is listed 2 times"), "\(verify)")
        #expect(try json(pfhost("forget", "--keep-last", "0", "--dry-run", "--json", "--store", setup.store))["forgotten"] == .array([]))
        #expect(try json(pfhost("gc", "--json", "--store", setup.store))["snapshots"] == .int(2))
        #expect(try pfhost("show", b.description, "--store", setup.store).status == 0)
        #expect(try pfhost("untag", "main", "--store", setup.store).stdout == "\(a)\n")
        #expect(try pfhost("verify", "--store", setup.store).status == 0)
        #expect(try pfhost("show", "main", "--store", setup.store).status == 4)
    }

    // MARK: Messages

    @Test("index.json or the journal replaced by a FIFO, a directory or a symlink: exit 3 naming it, never opened or followed",
          arguments: [("index.json", "fifo"), ("index.json", "directory"), ("index.json", "symlink"),
                      ("ingest/journal.v2", "fifo"), ("ingest/journal.v2", "directory"), ("ingest/journal.v2", "symlink"),
                      ("oci-layout", "fifo"), ("oci-layout", "symlink")])
    func documentNotAFile(_ name: String, _ kind: String) throws {
        let setup = SnapshotCommandTests.Setup()
        #expect(try setup.snapshot(["--tag", "t"]).status == 0)
        let path = setup.store + "/" + name
        try FileManager.default.removeItem(atPath: path)
        switch kind {
        case "fifo": #expect(mkfifo(path, 0o644) == 0)
        case "directory": try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        default: try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/dev/zero")
        }
        let list = try pfhost("list", "--store", setup.store)
        #expect(list.status == 3, "\(list)")
        let what = name == "ingest/journal.v2" ? "the journal" : name
        #expect(list.stderr.contains("\(path) is corrupt: it is not a regular file (a symlink, a directory, a FIFO or a device where \(what) belongs)"), "\(list)")
        // A snapshot's commit (which appends to the journal without reading it) says the same, and commits nothing.
        let snapshot = try setup.snapshot(["--tag", "t"])
        #expect(snapshot.status == 3, "\(snapshot)")
        #expect(snapshot.stderr.contains("\(path) is corrupt: it is not a regular file"), "\(snapshot)")
    }

    @Test("usage and damage messages: forget's either/or, TAG~N overflowing, plurals, a linked lock file, a blob that is a directory")
    func messages() throws {
        let setup = Setup()
        let a = try take(setup, "a", ["--tag", "main"])
        let neither = try pfhost("forget", "--store", setup.store)
        #expect(neither.status == 64 && neither.stderr.hasPrefix("pfhost: error: give the snapshots to forget, or a policy such as --keep-last N"), "\(neither)")
        let both = try pfhost("forget", "main", "--keep-last", "1", "--store", setup.store)
        #expect(both.status == 64 && both.stderr.hasPrefix("pfhost: error: give snapshots to forget or a --keep-* policy, not both"), "\(both)")
        let overflow = try pfhost("show", "main~99999999999999999999", "--store", setup.store)
        #expect(overflow.status == 64, "\(overflow)")
        #expect(overflow.stderr == "pfhost: error: invalid reference 'main~99999999999999999999': 99999999999999999999 first parents is more than any history holds (at most 9223372036854775807); give a smaller number\n", "\(overflow)")

        let copy = setup.dir.file("format1")
        try FileManager.default.copyItem(atPath: setup.store, toPath: copy)
        _ = try FormatOneStore.downgrade(copy)
        #expect(try pfhost("migrate", "--store", copy).stdout == "\(copy): upgraded from store format 1 to 2 (1 snapshot in ingest/journal.v2, 1 tag in index.json)\n")
        let gc = try pfhost("gc", "--store", setup.store)
        #expect(gc.stdout.hasSuffix("and 0 temporary files (0 B); kept \(setup.blobCount) blobs of 1 snapshot\n"), "\(gc)")

        let lock = setup.store + "/ingest/index.lock"
        try? FileManager.default.removeItem(atPath: lock)
        try FileManager.default.createSymbolicLink(atPath: lock, withDestinationPath: setup.dir.file("elsewhere"))
        let linked = try pfhost("tag", "main", "again", "--store", setup.store)
        #expect(linked.status == 3, "\(linked)")
        #expect(linked.stderr.hasPrefix("pfhost: error: \(lock) is corrupt: it is not a regular file (a symlink, a directory or a FIFO where a lock file belongs)"), "\(linked)")
        #expect(linked.stderr.contains("remove it, and the next command creates it again"), "\(linked)")
        #expect(!FileManager.default.fileExists(atPath: setup.dir.file("elsewhere")))
        try FileManager.default.removeItem(atPath: lock)

        let root = setup.store + "/blobs/sha256/" + a.hex
        try FileManager.default.removeItem(atPath: root)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: false)
        let show = try pfhost("show", "main", "--store", setup.store)
        #expect(show.status == 3, "\(show)")
        #expect(show.stderr.hasPrefix("pfhost: error: \(root) is corrupt: it is not a regular file"), "\(show)")
        // list lists what it can read, warns about the rest, and still fails.
        let list = try pfhost("list", "--store", setup.store)
        #expect(list.status == 3, "\(list)")
        #expect(list.stderr.hasPrefix("pfhost: warning: snapshot \(a.hex.prefix(12)) is not listed: \(root) is corrupt: it is not a regular file"), "\(list)")
        #expect(list.stderr.hasSuffix("pfhost: error: 1 snapshot could not be read and is not listed (see the warnings; 'pfhost verify' says more)\n"), "\(list)")
    }

    @Test("--store before the subcommand is taken as after it; ArgumentParser's own errors start 'pfhost: error:'; --help is unchanged")
    func commandLine() throws {
        let setup = Setup()
        let a = try take(setup, "a", ["--tag", "main"])
        for arguments in [["--store", setup.store, "list", "--json"], ["--store=\(setup.store)", "list", "--json"]] {
            #expect(try listed(setup) == [a.description])
            let output = try pfhost(arguments)
            #expect(output.status == 0 && output.stdout.contains(a.description), "\(arguments): \(output)")
        }
        let unknown = try pfhost("list", "--bogus", "--store", setup.store)
        #expect(unknown.status == 64 && unknown.stderr.hasPrefix("pfhost: error: Unknown option '--bogus'\nUsage: pfhost list"), "\(unknown)")
        let missing = try pfhost("tag", "main", "--store", setup.store)
        #expect(missing.status == 64 && missing.stderr.hasPrefix("pfhost: error: Missing expected argument '<name>'"), "\(missing)")
        let help = try pfhost("list", "--help")
        #expect(help.status == 0 && help.stdout.hasPrefix("OVERVIEW: List the snapshots") && help.stderr.isEmpty, "\(help)")
        let version = try pfhost("--version")
        #expect(version.status == 0 && version.stdout.hasPrefix("pfhost "), "\(version)")
    }

    @Test("verify checks every layer a store holds against the published schemas: a layer config with a field no schema has is reported, naming the layer")
    func verifyChecksSchemas() throws {
        let setup = Setup()
        let output = try setup.snapshot(["--tag", "main"])
        #expect(output.status == 0, "\(output)")
        let id = try Digest(parsing: output.stdout.trimmingCharacters(in: .newlines))
        #expect(try pfhost("verify", "--store", setup.store).status == 0)
        // A copy of the snapshot whose trace layer config has one field more: it decodes (the typed
        // layer ignores it), so only the schema can tell. Another tool could have written it.
        let store = try SnapshotStore(opening: setup.store)
        guard case .object(var members) = try JSONParser.parse(store.snapshot(id).layerJSON[.trace]!) else { Issue.record("no object"); return }
        members["zzz_unknown"] = .int(1)
        let forged = try LayerForgery.replacingLayer(.trace, of: id, with: CanonicalJSON.encode(JSONValue.object(members)), in: store)
        try store.adoptSnapshot(root: forged.root, tag: "forged")
        let verify = try pfhost("verify", "forged", "--store", setup.store)
        #expect(verify.status == 1, "\(verify)")
        #expect(verify.stdout.contains("\(store.blobPath(forged.layerManifest.digest)): the trace layer: does not match plugin-sdk/schema/layer-trace.schema.json"), "\(verify)")
        #expect(verify.stdout.contains("zzz_unknown"), "\(verify)")
        #expect(try pfhost("verify", "main", "--store", setup.store).status == 0)

        // A layer manifest listing a blob its layer does not: restore ignores it, a copy carries it.
        let stray = try store.putBlob(Array("not the layer's".utf8))
        try store.flush()
        let padded = try LayerForgery.replacingLayer(.effects, of: id, listingAlso: [
            OCIDescriptor(mediaType: "application/octet-stream", digest: stray.digest, size: stray.size),
        ], in: store)
        try store.adoptSnapshot(root: padded.root, tag: "padded")
        let extra = try pfhost("verify", "padded", "--store", setup.store)
        #expect(extra.status == 1, "\(extra)")
        #expect(extra.stdout.contains("\(store.blobPath(padded.layerManifest.digest)): the effects layer: its layer manifest lists blob \(stray.digest), which the layer does not"), "\(extra)")
    }
}
