import Foundation
import Testing
import PFModel
import PFStore
@testable import PFHost

/// Issue 10, "a host that nothing crashes": input an outside tester used to crash `pfhost`
/// (exit 132 or 139), each run through the real binary where there is one.
@Suite("Hostile input that once crashed the host")
struct CrashRegressionTests {
    typealias Agent = ReferencePluginTests.Agent

    /// Fails the test when `output` ended by a signal (a trap or a stack overflow).
    private func expectNoCrash(_ output: ProcessOutput, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!output.signalled && output.status < 128, "crashed: \(output)", sourceLocation: sourceLocation)
    }

    // MARK: nesting

    @Test("an index.json nested 1,000,000 deep: show and log report it with its offset, neither recurses")
    func deepIndex() throws {
        let setup = SnapshotCommandTests.Setup()
        // Tagged, so that index.json (tags only) has an entry to nest in.
        let id = try Digest(parsing: setup.snapshot(["--tag", "t"]).stdout.trimmingCharacters(in: .newlines))
        // Still canonical-looking (no white space), so show's raw scan reads it first.
        let path = setup.store + "/index.json"
        let original = try String(contentsOfFile: path, encoding: .utf8)
        let levels = 1_000_000
        let nested = original.replacingOccurrences(of: #""size":"#, with: #""x":"# + String(repeating: "[", count: levels)
                                                     + String(repeating: "]", count: levels) + #","size":"#)
        try Data(nested.utf8).write(to: URL(fileURLWithPath: path))
        // x's first '[' is level 4 (index, manifests, entry): its 510th is the 513th level.
        let offset = try #require(nested.utf8.firstRange(of: #""x":["#.utf8)).upperBound
        let bracket = nested.utf8.distance(from: nested.utf8.startIndex, to: offset) - 1 + 509
        for command in [["show", id.description], ["log"], ["show", "--json", String(id.hex.prefix(12))]] {
            let output = try run(productsDirectory + "/pfhost", command + ["--store", setup.store])
            expectNoCrash(output)
            #expect(output.status == 3, "\(command): \(output)")
            #expect(output.stderr.contains("\(path) is corrupt: invalid JSON at byte \(bracket): nesting deeper than 512 levels"), "\(command): \(output)")
        }
    }

    @Test("a config.json of 100,000 '[' is refused by the model plugin, naming the file, line, column and reason")
    func deepConfig() throws {
        let agent = try Agent()
        try agent.write("model/config.json", String(repeating: "[", count: 100_000))
        let message = try agent.failure(of: .model)
        #expect(message.contains("\(agent.root)/model/config.json: line 1, column 513: nesting deeper than 512 levels"), "\(message)")
        try agent.write("model/config.json", "{\n  \"_name_or_path\": \"m\",\n  \"eps\": 1e999999\n}")
        #expect(try agent.failure(of: .model).contains("model/config.json: line 3, column 10: number out of range"))
        try agent.write("model/config.json", "[1, 2]")
        #expect(try agent.failure(of: .model).contains("model/config.json: not a JSON object"))
    }

    @Test("trace and ledger lines that are not JSON say line, column and reason; 1e999999 is out of range", arguments: [
        ("trace/conversation.jsonl", #"{"role":"user","x":1e999999}"#, "line 1, column 20: number out of range (beyond ±1.7976931348623157e+308)"),
        ("trace/conversation.jsonl", #"{"role":"user","role":"tool"}"#, "line 1, column 16: duplicate key 'role'"),
        ("trace/conversation.jsonl", "{\"role\":\"user\",\"content\":\"a\u{1}b\"}", "line 1, column 28: unescaped control character U+0001 in a string"),
        ("trace/conversation.jsonl", String(repeating: "[", count: 100_000), "line 1, column 513: nesting deeper than 512 levels"),
        ("effects/ledger.jsonl", #"{"id":"fx-1","time":"t","kind":"k","target":"t","idempotency_key":"i","status":"pending","prev":null,}"#,
         "line 1, column 102: unexpected character '}', expected a string key"),
        ("kv/sequences.jsonl", #"{"id":"s","tokens":[1.5],"pages":[0]}"#, "line 1, column 21: floating-point numbers are not allowed"),
        ("kv/meta.json", "{\"format\": \"pfhost-kv-dump\",\n \"version\": 1 1}", "line 2, column 15: unexpected character '1', expected ',' or '}'"),
    ])
    func foreignJSONErrors(file: String, content: String, reason: String) throws {
        let agent = try Agent()
        try agent.write(file, content + "\n")
        let kind: LayerKind = file.hasPrefix("trace") ? .trace : file.hasPrefix("effects") ? .effects : .cache
        let message = try agent.failure(of: kind)
        #expect(message.contains("\(agent.root)/\(file): \(reason)"), "\(message)")
    }

    // MARK: long lines

    @Test("a 20 MiB single-line message is captured in linear time")
    func longMessage() throws {
        let agent = try Agent()
        let content = String(repeating: "0123456789abcdef", count: (20 << 20) / 16)
        try agent.write("trace/conversation.jsonl", #"{"role":"user","id":"big","content":""# + content + "\"}\n" + #"{"role":"assistant","id":"m2","content":"ok"}"# + "\n")
        let output = try agent.snapshot(["--json"])
        #expect(output.status == 0, "\(output)")
        let report = try JSONParser.parse(Array(output.stdout.utf8.dropLast()))
        // The quadratic reader took seconds for this in a release build; this one takes well under one.
        guard case .int(let milliseconds)? = report["layers"]?["trace"]?["capture_ms"] else {
            Issue.record("no capture_ms: \(output)"); return
        }
        #expect(milliseconds < 5000, "the trace capture took \(milliseconds) ms")
        let id = try Digest(parsing: try #require(report["id"]?.stringValue))
        let trace = try SnapshotStore(opening: agent.store).snapshot(id).manifest.trace.content
        #expect(trace.messageCount == 2 && trace.lastMessageId == "m2")
    }

    // MARK: arithmetic on sizes, counts and times

    @Test("a model file with an mtime in the year 2300 is stored, and stored again, without trapping")
    func farFutureMtime() throws {
        let agent = try Agent()
        var times = [timespec(tv_sec: 10_413_792_000, tv_nsec: 0), timespec(tv_sec: 10_413_792_000, tv_nsec: 0)]
        try #require(utimensat(AT_FDCWD, agent.root + "/model/model.safetensors", &times, 0) == 0)
        let (_, first) = try agent.manifest()
        let (_, second) = try agent.manifest()
        #expect(first.model == second.model)
    }

    @Test("progress reports near 2^64 are drawn on a terminal, not overflowed")
    func hugeProgress() throws {
        let setup = SnapshotCommandTests.Setup()
        // `script` gives pfhost a terminal on stderr, so that its progress line is drawn.
        let command = [productsDirectory + "/pfhost", "snapshot", "--plugins", setup.plugins, "--store", setup.store,
                       "--set", "trace.mode=huge-progress"].map { "'" + $0 + "'" }.joined(separator: " ")
        let output = try run("/usr/bin/script", ["-qec", command, "/dev/null"])
        expectNoCrash(output)
        #expect(output.status == 0, "\(output)")
        #expect(output.stdout.contains("trace 99%"), "\(output)")
        #expect(output.stdout.contains("trace 18446744073709551615"), "\(output)")
    }

    @Test("show and verify a store whose manifests claim blobs of 2^62 bytes")
    func hugeSizes() throws {
        let setup = SnapshotCommandTests.Setup()
        let real = try Digest(parsing: setup.snapshot().stdout.trimmingCharacters(in: .newlines))
        let store = try SnapshotStore(opening: setup.store)
        let snapshot = try store.snapshot(real)
        var manifest = snapshot.manifest
        let huge: Int64 = 1 << 62
        manifest.model.blobs = [manifest.model.blobs[0], manifest.model.blobs[0]].map { var blob = $0; blob.size = huge; return blob }
        manifest.trace.blobs[0].size = huge
        // Written as a format-1 snapshot manifest, whose OCI layers then claim 2^62 bytes too.
        let root = try FormatOneStore.writeSnapshot(manifest, store: setup.store)
        let ociBlob = (digest: root.digest, size: root.size)
        let line = #"{"created":"","digest":"\#(root.digest)","mediaType":"\#(root.mediaType)","op":"add","size":\#(root.size)}"# + "\n"
        let journal = try #require(FileHandle(forWritingAtPath: setup.store + "/ingest/journal.v2"))
        journal.seekToEndOfFile()
        journal.write(Data(line.utf8))
        journal.closeFile()

        let show = try pfhost("show", ociBlob.digest.description, "--store", setup.store)
        expectNoCrash(show)
        #expect(show.status == 0, "\(show)")
        // Two blobs of 2^62 bytes saturate at 2^63 - 1 bytes: 8388608.0 TiB.
        #expect(show.stdout.contains("8388608.0 TiB"), "\(show)")
        let verify = try pfhost("verify", ociBlob.digest.description, "--store", setup.store)
        expectNoCrash(verify)
        #expect(verify.status == 1, "\(verify)")
    }

    @Test("a KV page of 1 TiB is copied in pieces, never allocated whole")
    func hugePage() throws {
        let agent = try Agent()
        // 2 × 4 bytes × 1024 layers × 1024 heads × 512 tokens × 256 dims = 2^40 bytes a page.
        try agent.write("kv/meta.json", #"{"format":"pfhost-kv-dump","version":1,"model_fingerprint":"m","dtype":"f32","tokens_per_page":512,"num_layers":1024,"num_heads":1024,"head_dim":256}"#)
        try agent.write("kv/sequences.jsonl", #"{"id":"s","tokens":[1],"pages":[0]}"# + "\n")
        let pages = agent.root + "/kv/pages.bin"
        try #require(truncate(pages, 0) == 0)
        // A sparse file: no disk space, but a page the old plugin allocated whole and crashed on.
        try #require(truncate(pages, 1 << 40) == 0, "this file system does not hold a 1 TiB sparse file")
        let output = try agent.snapshot(["--timeout", "2"])
        expectNoCrash(output)
        // Hashing a terabyte takes longer than 2 s: the capture is cancelled and reported.
        #expect(output.status == 2, "\(output)")
        #expect(output.stderr.contains("cache"), "\(output)")
    }

    @Test("capture durations convert without trapping, whatever a request holds")
    func durations() throws {
        #expect(Duration.seconds(-1).clampedNanoseconds == 0)
        #expect(Duration.milliseconds(-1).clampedNanoseconds == 0)
        #expect(Duration.seconds(Int64.max).clampedNanoseconds == Int.max)
        #expect(Duration.seconds(2).clampedNanoseconds == 2_000_000_000)
        #expect(Duration.seconds(Int64.max).saturatedMilliseconds == Int64.max)
        #expect(Duration.seconds(Int64.min).saturatedMilliseconds == Int64.min)
        #expect(Duration.microseconds(2500).saturatedMilliseconds == 2)
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.file("store"))
        let plugins = PluginBuilder.directory(in: dir)
        let result = try Snapshotter(store: store).snapshot(
            SnapshotRequest(pluginsDirectory: plugins, timeout: .seconds(Int64.max), grace: .seconds(Int64.max)))
        #expect(result.layers.count == 5)
    }
}
