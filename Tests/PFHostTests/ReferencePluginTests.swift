import Foundation
import Testing
import PFModel
import PFStore

/// The five reference plugins, run by the real `pfhost` on a copy of the example agent.
@Suite("Reference plugins")
struct ReferencePluginTests {
    /// A copy of Examples/agent, the reference plugins, and a store.
    struct Agent {
        let dir = TemporaryDirectory()
        let plugins: String
        var root: String { dir.file("agent") }
        var store: String { dir.file("store") }

        init() throws {
            try FileManager.default.copyItem(atPath: repositoryRoot + "/Examples/agent", toPath: dir.file("agent"))
            plugins = dir.directory("plugins")
            for kind in LayerKind.allCases {
                try FileManager.default.createSymbolicLink(atPath: plugins + "/libpf-\(kind).so",
                                                           withDestinationPath: productsDirectory + "/libpf-\(kind).so")
            }
        }

        func snapshot(_ extra: [String] = [], environment: [String: String] = [:]) throws -> ProcessOutput {
            try run(productsDirectory + "/pfhost",
                    ["snapshot", "--plugins", plugins, "--store", store, "--config", root + "/pfhost.json"] + extra,
                    environment: environment)
        }

        /// Snapshots and returns the committed manifest.
        func manifest(_ extra: [String] = [], environment: [String: String] = [:]) throws -> (Digest, Manifest) {
            let output = try snapshot(extra, environment: environment)
            guard output.status == 0 else { throw Failure(output: output) }
            let id = try Digest(parsing: output.stdout.trimmingCharacters(in: .newlines))
            return (id, try SnapshotStore(opening: store).snapshot(id).manifest)
        }

        /// Snapshots expecting the plugin in `file` (default: the `kind` reference plugin) to
        /// fail; checks nothing was committed and returns the message.
        func failure(of kind: LayerKind, file: String? = nil, _ extra: [String] = []) throws -> String {
            let before = (try? SnapshotStore(opening: store).history().count) ?? 0
            let output = try snapshot(extra)
            #expect(output.status == 2, "\(output)")
            let prefix = "pfhost: error: plugin \(plugins)/\(file ?? "libpf-\(kind).so") ("
            #expect(output.stderr.hasPrefix(prefix), "\(output)")
            let after = (try? SnapshotStore(opening: store).history().count) ?? 0
            #expect(after == before)
            return output.stderr
        }

        func write(_ relative: String, _ text: String) throws {
            try? FileManager.default.removeItem(atPath: root + "/" + relative)
            try Data(text.utf8).write(to: URL(fileURLWithPath: root + "/" + relative))
        }

        func read(_ relative: String) throws -> String {
            try String(contentsOfFile: root + "/" + relative, encoding: .utf8)
        }

        var blobCount: Int { (try? FileManager.default.contentsOfDirectory(atPath: store + "/blobs/sha256").count) ?? 0 }
    }

    struct Failure: Error, CustomStringConvertible {
        let output: ProcessOutput
        var description: String { "\(output)" }
    }

    // MARK: model

    @Test("model: weights, tensors, dtypes and the LoRA adapter")
    func model() throws {
        let agent = try Agent()
        let (_, manifest) = try agent.manifest()
        let model = manifest.model.content
        #expect(manifest.model.plugin == PluginRef(id: "dev.pfhost.model.safetensors", version: "1.3.0"))
        #expect(model.name == "pfhost/tiny-agent-2l")
        #expect(model.format == "safetensors")
        #expect(model.files.map(\.path) == ["config.json", "model.safetensors", "tokenizer.json"])
        let weights = try #require(model.files.first { $0.path == "model.safetensors" })
        #expect(weights.tensorCount == 12 && weights.dtypes == ["F16", "F32"])
        #expect(weights.size == Int64(try FileManager.default.attributesOfItem(atPath: agent.root + "/model/model.safetensors")[.size] as! Int))
        #expect(model.adapters.count == 1)
        let adapter = try #require(model.adapters.first)
        #expect(adapter.name == "lora-tools" && adapter.baseModel == "pfhost/tiny-agent-2l" && adapter.type == "LORA")
        #expect(adapter.files.first { $0.path.hasSuffix(".safetensors") }?.tensorCount == 8)
        #expect(Set(manifest.model.blobs.map(\.digest)) == Set((model.files + adapter.files).map(\.digest)))
    }

    @Test("model, cache and trace read other programs' JSON with floating point; a single weights file is a model")
    func foreignJSON() throws {
        let agent = try Agent()
        try agent.write("model/config.json", #"{"_name_or_path": "org/float-model", "rms_norm_eps": 1e-06, "rope_theta": 10000.0, "rope_scaling": {"factor": 2.5}}"#)
        try agent.write("model/adapters/lora-tools/adapter_config.json", #"{"base_model_name_or_path": "org/float-model", "lora_dropout": 0.05, "r": 8}"#)
        let meta = try agent.read("kv/meta.json").replacingOccurrences(of: "\"version\": 1", with: "\"version\": 1, \"gpu_memory_utilization\": 0.9")
        try agent.write("kv/meta.json", meta)
        try agent.write("trace/conversation.jsonl", try agent.read("trace/conversation.jsonl")
            + #"{"role": "assistant", "id": "m7", "content": "done", "logprobs": {"top": [-0.25, 1e-3, 2E+2]}}"# + "\n")
        let (_, manifest) = try agent.manifest()
        #expect(manifest.model.content.name == "org/float-model")
        #expect(manifest.model.content.adapters.first?.baseModel == "org/float-model")
        #expect(manifest.cache.content.pageCount == 12)
        #expect(manifest.trace.content.messageCount == 7 && manifest.trace.content.lastMessageId == "m7")

        // model.path naming one .safetensors file, relative to the working directory.
        let output = try run(productsDirectory + "/pfhost",
                             ["snapshot", "--plugins", agent.plugins, "--store", agent.store, "--config", agent.root + "/pfhost.json",
                              "--set", "model.path=model.safetensors"],
                             currentDirectory: agent.root + "/model")
        #expect(output.status == 0, "\(output)")
        let single = try SnapshotStore(opening: agent.store).snapshot(Digest(parsing: output.stdout.trimmingCharacters(in: .newlines))).manifest
        #expect(single.model.content.files.map(\.path) == ["model.safetensors"] && single.model.content.name == "model")
    }

    /// Rewrites model.safetensors with `header` and `dataBytes` bytes of data.
    private func writeSafetensors(_ agent: Agent, header: String, dataBytes: Int, declaredLength: UInt64? = nil) throws {
        var bytes = withUnsafeBytes(of: (declaredLength ?? UInt64(header.utf8.count)).littleEndian) { Array($0) }
        bytes += Array(header.utf8) + [UInt8](repeating: 0, count: dataBytes)
        let path = agent.root + "/model/model.safetensors"
        try FileManager.default.removeItem(atPath: path)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test("model: each damaged safetensors file is refused with the file and the reason", arguments: [
        (#"{"w":{"dtype":"F16","shape":[2,2],"data_offsets":[0,8]}}"#, 4, nil as UInt64?, "the tensors cover 8 bytes of data but the file holds 4 after the header"),
        (#"{"w":{"dtype":"F16","shape":[2,2],"data_offsets":[0,6]}}"#, 6, nil, "tensor 'w' spans 6 bytes but its shape [2, 2] of F16 needs 8"),
        (#"{"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,2]}}"#, 2, nil, "tensor 'w' has an unknown or missing dtype"),
        (#"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}"#, 6, nil, "tensor 'b' starts at data offset 2, expected 4 (tensors must not overlap or leave gaps)"),
        ("{not json", 0, nil, "the safetensors header is not valid JSON"),
        ("{}", 0, 4096, "truncated safetensors file: the header says 4096 bytes but only 2 follow"),
    ])
    func damagedSafetensors(header: String, dataBytes: Int, declaredLength: UInt64?, reason: String) throws {
        let agent = try Agent()
        try writeSafetensors(agent, header: header, dataBytes: dataBytes, declaredLength: declaredLength)
        let message = try agent.failure(of: .model)
        #expect(message.contains("\(agent.root)/model/model.safetensors: \(reason)"), "\(message)")
    }

    @Test("model: a missing path and a directory without weights are refused")
    func modelInputs() throws {
        let agent = try Agent()
        #expect(try agent.failure(of: .model, ["--set", "model.path=\(agent.root)/nothing"]).contains("\(agent.root)/nothing: no such file or directory"))
        #expect(try agent.failure(of: .model, ["--set", "model.path=\(agent.root)/kv"]).contains("\(agent.root)/kv: no .safetensors file found"))
        let unset = try agent.snapshot(["--config", agent.dir.file("none.json")])
        #expect(unset.status == 78, "\(unset)")
        let adapterConfig = "model/adapters/lora-tools/adapter_config.json"
        try agent.write(adapterConfig, "{not json")
        #expect(try agent.failure(of: .model).contains("\(adapterConfig): line 1, column 2: unexpected character 'n', expected a string key"))
        try agent.write(adapterConfig, "[]")
        #expect(try agent.failure(of: .model).contains("\(adapterConfig): not a JSON object"))
        try agent.write(adapterConfig, #"{"peft_type": "LORA", "r": 8, "lora_alpha": 16.0}"#)
        #expect(try agent.failure(of: .model).contains("\(adapterConfig): missing base_model_name_or_path"))
    }

    // MARK: cache

    @Test("a parent layer another plugin, or another version of this one, captured is not trusted: the plugin captures its input again",
          arguments: LayerKind.allCases)
    func foreignParentIsNotTrusted(kind: LayerKind) throws {
        let agent = try Agent()
        // Every file's stat data trusted at once, so each plugin would take its shortcut.
        let trust = ["model", "world", "effects", "trace"].flatMap { ["--set", "\($0).racy_window_ms=0"] }
        // The world plugin also compares its environment, processes and DOM with the parent's; what
        // only its tree key vouches for is the tree: here, one with a file the workspace no longer has.
        try agent.write("workspace/gone.txt", "a file since deleted\n")
        let (_, earlier) = try agent.manifest(trust)
        try FileManager.default.removeItem(atPath: agent.root + "/workspace/gone.txt")
        let (id, original) = try agent.manifest(trust + ["--tag", "main"])
        #expect(try earlier.encodedLayer(.world) != original.encodedLayer(.world))
        let own = try agent.snapshot(trust + ["--parent", "main", "--verbose"])
        #expect(own.status == 0 && Self.reused(own.stderr).contains(kind.rawValue), "\(own)")

        let store = try SnapshotStore(opening: agent.store)
        let plugin = try #require(original.layerSummaries.first { $0.kind == kind }?.plugin)
        let stamps: [JSONValue] = [
            .object(["id": .string("org.example.impostor"), "version": .string(plugin.version)]),
            .object(["id": .string(plugin.id), "version": .string("0.0.1")]),
        ]
        for (number, stamp) in stamps.enumerated() {
            // A note the plugin did not write (and for the world, the earlier tree): a layer handed
            // back would carry it into the child.
            let earlierWorld = try JSONParser.parse(earlier.encodedLayer(.world))
            _ = try LayerForgery.editingLayer(kind, of: id, in: store, tag: "foreign\(number)") { members in
                if kind == .world, case .object(let tree) = earlierWorld { members = tree.merging(["annotations": members["annotations"]!]) { $1 } }
                members["plugin"] = stamp
                if case .object(var notes)? = members["annotations"] {
                    notes["org.example.note"] = .string("written by another plugin")
                    members["annotations"] = .object(notes)
                }
            }
            let output = try agent.snapshot(trust + ["--parent", "foreign\(number)", "--verbose"])
            #expect(output.status == 0, "\(output)")
            #expect(!Self.reused(output.stderr).contains(kind.rawValue), "\(stamp): \(output)")
            let committed = try store.snapshot(Digest(parsing: output.stdout.trimmingCharacters(in: .newlines))).manifest
            #expect(try committed.encodedLayer(kind) == original.encodedLayer(kind))
        }
        // What the parent says is not taken either: a trace whose messages are another blob, stamped by another plugin.
        if kind == .trace {
            let other = try store.putBlob(Array("{\"role\":\"user\",\"content\":\"forged\"}\n".utf8))
            try store.flush()
            _ = try LayerForgery.editingLayer(.trace, of: id, in: store, tag: "forged") { members in
                members["plugin"] = stamps[0]
                members["blobs"] = .array([.object(["digest": .string(other.digest.description), "media_type": .string("application/x-ndjson"),
                                                    "size": .int(other.size)])])
                members["messages"] = .string(other.digest.description)
            }
            let (_, child) = try agent.manifest(trust + ["--parent", "forged"])
            #expect(child.trace.content == original.trace.content)
        }
    }

    /// The layer kinds a `--verbose` snapshot says it stored as the parent's.
    static func reused(_ stderr: String) -> [String] {
        let marker = "unchanged, stored as the parent's: the "
        guard let line = stderr.split(separator: "\n").first(where: { $0.contains(marker) }),
              let range = line.range(of: marker) else { return [] }
        return line[range.upperBound...].replacingOccurrences(of: " layer configs", with: "").components(separatedBy: ", ")
    }

    @Test("model: a renamed weights directory or file is the new name, though no file's stat data changed", arguments: [true, false])
    func modelRenamed(directory: Bool) throws {
        let agent = try Agent()
        let weights = repositoryRoot + "/Examples/agent/model/model.safetensors"
        let before = directory ? agent.dir.directory("llama-base") : agent.dir.file("llama-base.safetensors")
        try FileManager.default.copyItem(atPath: weights, toPath: directory ? before + "/model.safetensors" : before)
        let trust = ["--set", "model.racy_window_ms=0", "--tag", "a"]
        let (_, first) = try agent.manifest(trust + ["--set", "model.path=\(before)"])
        #expect(first.model.content.name == "llama-base")
        let after = directory ? agent.dir.file("llama-ft") : agent.dir.file("llama-ft.safetensors")
        try FileManager.default.moveItem(atPath: before, toPath: after)
        let (_, renamed) = try agent.manifest(trust + ["--set", "model.path=\(after)"])
        #expect(renamed.model.content.name == "llama-ft")
    }

    @Test("model: settled files' paths and stat data key the layer, so unchanged weights are the parent's unopened; any change is read")
    func modelFilesKey() throws {
        let agent = try Agent()
        let key = "dev.pfhost.model.files_key"
        // Just copied: within the racy window, so no key.
        let (_, fresh) = try agent.manifest(["--tag", "a"])
        #expect(fresh.model.annotations[key] == nil)
        let trust = ["--set", "model.racy_window_ms=0", "--tag", "a"]
        let (_, keyed) = try agent.manifest(trust)
        let recorded = try #require(keyed.model.annotations[key])
        #expect(keyed.model.content == fresh.model.content)
        // Unchanged: the parent's layer, stored as the parent's.
        let again = try agent.snapshot(trust + ["--verbose"])
        #expect(again.status == 0 && again.stderr.contains("unchanged, stored as the parent's: the model"), "\(again)")
        // Another name setting is another layer, whatever the files.
        let (_, renamed) = try agent.manifest(trust + ["--set", "model.name=other"])
        #expect(renamed.model.content.name == "other" && renamed.model.annotations[key] != recorded)
        // A file rewritten in place (same size) is read again: a header that no longer parses is refused.
        let weights = agent.root + "/model/model.safetensors"
        let handle = try #require(FileHandle(forWritingAtPath: weights))
        try handle.write(contentsOf: Data(repeating: 0xff, count: 8))
        try handle.close()
        #expect(try agent.failure(of: .model, trust + ["--set", "model.name=other"]).contains("model.safetensors"))
        // A file added to an adapter changes the key too.
        try FileManager.default.copyItem(atPath: repositoryRoot + "/Examples/agent/model/model.safetensors", toPath: weights + ".tmp")
        try FileManager.default.removeItem(atPath: weights)
        try FileManager.default.moveItem(atPath: weights + ".tmp", toPath: weights)
        let adapter = try #require(try FileManager.default.contentsOfDirectory(atPath: agent.root + "/model/adapters").first)
        try agent.write("model/adapters/\(adapter)/README.md", "notes\n")
        let (_, added) = try agent.manifest(trust + ["--set", "model.name=other"])
        #expect(added.model.content.adapters.first?.files.contains { $0.path.hasSuffix("/README.md") } == true)
        #expect(added.model.annotations[key] != renamed.model.annotations[key])
    }

    @Test("cache: pages packed by chained key, the shared prefix stored once")
    func cache() throws {
        let agent = try Agent()
        let (_, manifest) = try agent.manifest()
        let cache = manifest.cache.content
        #expect(cache.modelFingerprint == "pfhost/tiny-agent-2l")
        #expect(cache.tokensPerPage == 16 && cache.pageBytes == 2048)
        #expect(cache.pageCount == 12)   // 3 shared + 4 + 5 own pages: 15 page references, 12 distinct
        #expect(cache.sequences == [CacheSequence(id: "seq-a", tokenCount: 104, pageCount: 7),
                                    CacheSequence(id: "seq-b", tokenCount: 128, pageCount: 8)])
        #expect(cache.tokenCount == 232)
        #expect(cache.packs.reduce(0) { $0 + $1.pageCount } == 12)
        #expect(cache.packs.count < 12)
        let store = try SnapshotStore(opening: agent.store)
        let packBytes = try cache.packs.reduce(Int64(0)) { $0 + (try store.size(of: $1.digest) ?? 0) }
        #expect(packBytes == 12 * 2048)

        // The index (written piece by piece) is canonical JSON, and through it every page of every
        // sequence reads back as the bytes of its slot in pages.bin.
        let indexBytes = try store.readBlob(try #require(cache.index))
        let index = try JSONParser.parse(indexBytes)
        #expect(CanonicalJSON.encode(index) == indexBytes)
        guard case .array(let packs)? = index["packs"], case .array(let pages)? = index["pages"],
              case .array(let sequences)? = index["sequences"] else { Issue.record("index fields missing"); return }
        #expect(packs == cache.packs.map { .string($0.digest.description) })
        let packData = try cache.packs.map { try store.readBlob($0.digest) }
        var location: [String: (pack: Int, offset: Int)] = [:]
        for page in pages {
            guard let key = page["key"]?.stringValue, case .int(let pack)? = page["pack"], case .int(let offset)? = page["offset"] else {
                Issue.record("bad page \(page)"); continue
            }
            location[key] = (Int(pack), Int(offset))
        }
        let dumped = try agent.read("kv/sequences.jsonl").split(separator: "\n").map { try JSONParser.parse(Array($0.utf8)) }
        let pagesBin = try [UInt8](Data(contentsOf: URL(fileURLWithPath: agent.root + "/kv/pages.bin")))
        #expect(sequences.count == dumped.count)
        for (sequence, dump) in zip(sequences, dumped) {
            #expect(sequence["id"] == dump["id"] && sequence["tokens"] == dump["tokens"])
            guard case .array(let keys)? = sequence["pages"], case .array(let slots)? = dump["pages"] else {
                Issue.record("no pages or slots"); continue
            }
            #expect(keys.count == slots.count)
            for (key, slot) in zip(keys, slots) {
                guard let (pack, offset) = location[key.stringValue ?? ""], case .int(let slot) = slot,
                      pack < packData.count, offset + 2048 <= packData[pack].count else {
                    Issue.record("page \(key) is not in the index, or not inside its pack"); continue
                }
                #expect(packData[pack][offset..<offset + 2048] == pagesBin[Int(slot) * 2048..<Int(slot + 1) * 2048])
            }
        }
    }

    @Test("cache: a damaged dump is refused, naming the file and line", arguments: [
        ("kv/meta.json", #"{"format":"pfhost-kv-dump","version":1,"model_fingerprint":"m","dtype":"int3","tokens_per_page":16,"num_layers":2,"num_heads":2,"head_dim":8}"#,
         "kv/meta.json: 'dtype' must be one of"),
        ("kv/meta.json", #"{"format":"pfhost-kv-dump","version":1,"model_fingerprint":"m","dtype":"f32","tokens_per_page":2147483647,"num_layers":2147483647,"num_heads":2147483647,"head_dim":8}"#,
         "kv/meta.json: a page of 2 × num_layers × num_heads × tokens_per_page × head_dim × 4 bytes does not fit 64 bits"),
        ("kv/sequences.jsonl", #"{"id":"s","tokens":[1,2,3],"pages":[0,1]}"#, "kv/sequences.jsonl: line 1: 3 tokens need 1 pages of 16, the page table has 2"),
        ("kv/sequences.jsonl", #"{"id":"s","tokens":[1,2,3],"pages":[99]}"#, "kv/sequences.jsonl: line 1: page slot 99 is outside pages.bin (12 pages)"),
        ("kv/sequences.jsonl", "{\"id\":\"s\",\"tokens\":[1],\"pages\":[0]}\n{\"id\":\"s\",\"tokens\":[],\"pages\":[]}\n", "line 2: sequence id 's' was already used on line 1"),
    ])
    func damagedCache(file: String, content: String, reason: String) throws {
        let agent = try Agent()
        try agent.write(file, content)
        let message = try agent.failure(of: .cache)
        #expect(message.contains(reason), "\(message)")
    }

    @Test("cache: a truncated pages.bin is refused")
    func truncatedPages() throws {
        let agent = try Agent()
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: agent.root + "/kv/pages.bin"))
        try handle.truncate(atOffset: 5000)
        try handle.close()
        #expect(try agent.failure(of: .cache).contains("kv/pages.bin: 5000 bytes is not a whole number of 2048-byte pages (truncated?)"))
    }

    @Test("cache: the parent's layer is reused only while pages.bin has the stat its capture recorded")
    func cacheReuseChecksPages() throws {
        let agent = try Agent()
        let pages = agent.root + "/kv/pages.bin"
        let original = try Data(contentsOf: URL(fileURLWithPath: pages))
        let (_, first) = try agent.manifest(["--tag", "agent"])
        #expect(first.cache.annotations["dev.pfhost.cache.pages_stat"]?.hasPrefix("size=\(original.count) mtime_ns=") == true,
                "\(first.cache.annotations)")
        let shortcut = "the parent's layer is reused"
        let unchanged = try agent.snapshot(["--tag", "agent", "--verbose"])
        #expect(unchanged.status == 0, "\(unchanged)")
        #expect(unchanged.stderr.contains(shortcut), "\(unchanged)")

        // 7 bytes short, meta.json and sequences.jsonl untouched: refused as it is without a parent.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: pages))
        try handle.truncate(atOffset: UInt64(original.count - 7))
        try handle.close()
        let message = try agent.failure(of: .cache, ["--tag", "agent"])
        #expect(message.contains("kv/pages.bin: \(original.count - 7) bytes is not a whole number of 2048-byte pages (truncated?)"), "\(message)")

        // The parent's size again, other bytes, same inode (rewritten in place): not the shortcut
        // but the full capture, which checks pages.bin and succeeds.
        let rewrite = try FileHandle(forWritingTo: URL(fileURLWithPath: pages))
        try rewrite.write(contentsOf: Data(original.map { $0 ^ 0x5A }))
        try rewrite.close()
        let rewritten = try agent.snapshot(["--tag", "agent", "--verbose"])
        #expect(rewritten.status == 0, "\(rewritten)")
        #expect(!rewritten.stderr.contains(shortcut), "\(rewritten)")
        #expect(rewritten.stderr.contains("pages reused from the parent"), "\(rewritten)")
    }

    @Test("cache: a path that is not a dump, or a dump missing a file, is refused with what to set")
    func notADump() throws {
        let agent = try Agent()
        #expect(try agent.failure(of: .cache, ["--set", "cache.path=\(agent.root)/nowhere"])
            .contains("\(agent.root)/nowhere/meta.json: no such file (cache.path must be a KV-cache dump directory)"))
        #expect(try agent.failure(of: .cache, ["--set", "cache.path=\(agent.root)/model"])
            .contains("\(agent.root)/model/meta.json: no such file (cache.path must be a KV-cache dump directory)"))
        try FileManager.default.removeItem(atPath: agent.root + "/kv/sequences.jsonl")
        try FileManager.default.createDirectory(atPath: agent.root + "/kv/sequences.jsonl", withIntermediateDirectories: false)
        #expect(try agent.failure(of: .cache).contains("kv/sequences.jsonl: cannot be read as a file (cache.path must be a KV-cache dump directory)"))
    }

    // MARK: world

    @Test("world: the tree with modes and symlink targets, excludes, redacted environment, DOM")
    func world() throws {
        let agent = try Agent()
        try agent.write("workspace/scratch.tmp", "temporary")
        let (_, manifest) = try agent.manifest(environment: ["OPENAI_API_KEY": "sk-secret", "AGENT_MODE": "batch", "GITHUB_TOKEN": "t",
                                                             "db_Password": "hunter2", "KEYBOARD_LAYOUT": "us", "MONKEY": "no"])
        let world = manifest.world.content
        #expect(world.root == agent.root + "/workspace")
        #expect(world.env?["OPENAI_API_KEY"] == "<redacted>" && world.env?["GITHUB_TOKEN"] == "<redacted>")
        #expect(world.env?["AGENT_MODE"] == "batch")
        // Any case; a marker anywhere in the name (KEYBOARD and MONKEY contain KEY).
        #expect(world.env?["db_Password"] == "<redacted>" && world.env?["KEYBOARD_LAYOUT"] == "<redacted>" && world.env?["MONKEY"] == "<redacted>")
        #expect(world.dom?.path == agent.root + "/browser/page.html" && world.dom?.size == 156)
        let store = try SnapshotStore(opening: agent.store)
        let indexBytes = try store.readBlob(world.tree.index)
        let index = try JSONParser.parse(indexBytes)
        // Written as it was walked, the index is still canonical JSON.
        #expect(CanonicalJSON.encode(index) == indexBytes)
        #expect(index["packs"] == .array((world.tree.packs ?? []).map { .string($0.digest.description) }))
        guard case .array(let entries)? = index["entries"] else { Issue.record("no entries"); return }
        let paths = entries.compactMap { $0["path"]?.stringValue }
        #expect(paths == ["README.md", "data", "data/sales.csv", "latest.csv", "notes", "notes/todo.txt", "src", "src/summarise.py"])
        #expect(world.tree.entryCount == 8)
        let link = entries.first { $0["path"] == .string("latest.csv") }
        #expect(link?["type"] == .string("symlink") && link?["target"] == .string("data/sales.csv"))
        #expect(world.tree.totalBytes == 59 + 41 + 38 + 89)
        // The small files are in one pack, in index order.
        let pack = try #require(world.tree.packs?.first)
        #expect(try store.readBlob(pack.digest) == Array((try agent.read("workspace/README.md") + agent.read("workspace/data/sales.csv")
            + agent.read("workspace/notes/todo.txt") + agent.read("workspace/src/summarise.py")).utf8))
        let (_, kept) = try agent.manifest(["--set", "world.env_keep=AGENT_MODE,GITHUB_TOKEN", "--set", "world.exclude="],
                                           environment: ["GITHUB_TOKEN": "t"])
        #expect(kept.world.content.env?["GITHUB_TOKEN"] == "t")
        #expect(kept.world.content.tree.entryCount == 9)
    }

    @Test("world: an unchanged tree is the parent's; one changed file re-reads only its pack")
    func worldReuse() throws {
        let agent = try Agent()
        // Trust timestamps at once: the copy was just made (the default window is 2 s).
        let trust = ["--set", "world.racy_window_ms=0", "--tag", "agent"]
        let (_, first) = try agent.manifest(trust)
        let key = try #require(first.world.annotations["dev.pfhost.world.tree_key"])
        let (_, same) = try agent.manifest(trust)
        #expect(same.world.content.tree == first.world.content.tree && same.world.annotations["dev.pfhost.world.tree_key"] == key)
        #expect(Set(same.world.blobs) == Set(first.world.blobs))
        try agent.write("workspace/notes/todo.txt", "- ship it\n")
        let (_, changed) = try agent.manifest(trust)
        #expect(changed.world.annotations["dev.pfhost.world.tree_key"] != key)
        #expect(changed.world.content.tree.index != first.world.content.tree.index)
        let store = try SnapshotStore(opening: agent.store)
        let packs = try #require(changed.world.content.tree.packs)
        let bytes = try packs.flatMap { try store.readBlob($0.digest) }
        #expect(String(decoding: bytes, as: UTF8.self).contains("- ship it"))
        // Untrusted timestamps (the default window, files just written): no key, so no reuse.
        let (_, racy) = try agent.manifest(["--tag", "agent"])
        #expect(racy.world.annotations["dev.pfhost.world.tree_key"] == nil)
        // A value of the wrong type never reaches the plugin: the host checks the declared int (exit 78).
        let soon = try agent.snapshot(["--set", "world.racy_window_ms=soon"])
        #expect(soon.status == 78 && soon.stderr.contains("world.racy_window_ms='soon' must be a decimal integer"), "\(soon)")
    }

    @Test("world: the tree key of a tree whose records span many hashed segments changes with any one entry, wherever it is")
    func worldKeySegments() throws {
        let agent = try Agent()
        // About 3,000 entries: their records (path and stat data) are well over 64 KiB, so the key
        // is hashed as several segments side by side.
        for directory in 0..<30 {
            let path = agent.root + "/workspace/many/d\(directory)"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            for file in 0..<100 { try Data("\(directory)/\(file)\n".utf8).write(to: URL(fileURLWithPath: path + "/file-\(file).txt")) }
        }
        let trust = ["--set", "world.racy_window_ms=0", "--tag", "agent"]
        let (_, first) = try agent.manifest(trust)
        let key = try #require(first.world.annotations["dev.pfhost.world.tree_key"])
        let again = try agent.snapshot(trust + ["--verbose"])
        #expect(again.status == 0 && again.stderr.split(separator: "\n").contains { $0.contains("unchanged, stored as the parent's") && $0.contains("world") }, "\(again)")
        let (_, same) = try agent.manifest(trust)
        #expect(same.world.annotations["dev.pfhost.world.tree_key"] == key)
        // One entry in the first segment, one in the last: each gives another key.
        var keys: Set<String> = [key]
        for path in ["workspace/many/d0/file-0.txt", "workspace/many/d9/file-99.txt"] {
            try agent.write(path, "changed\n")
            let (_, changed) = try agent.manifest(trust)
            let next = try #require(changed.world.annotations["dev.pfhost.world.tree_key"])
            #expect(keys.insert(next).inserted, "\(path)")
        }
    }

    @Test("world: every file of a many-pack tree is found at its pack and offset in the index")
    func worldIndex() throws {
        let agent = try Agent()
        var expected: [String: [UInt8]] = [:]
        for n in 0..<300 {
            let relative = "gen/d\(n % 7)/f\(n).txt"
            let bytes = Array("file \(n) ".utf8) + [UInt8](repeating: UInt8(n % 251), count: n * 37 % 3000)
            try FileManager.default.createDirectory(atPath: agent.root + "/workspace/gen/d\(n % 7)", withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: agent.root + "/workspace/" + relative))
            expected[relative] = bytes
        }
        let big = [UInt8](repeating: 9, count: 100_000)
        try Data(big).write(to: URL(fileURLWithPath: agent.root + "/workspace/gen/big.bin"))
        let (_, manifest) = try agent.manifest()
        let store = try SnapshotStore(opening: agent.store)
        let index = try JSONParser.parse(store.readBlob(manifest.world.content.tree.index))
        guard case .array(let packs)? = index["packs"], case .array(let entries)? = index["entries"] else {
            Issue.record("no packs or entries"); return
        }
        #expect(packs.count > 3)
        let packBytes = try packs.map { try store.readBlob(Digest(parsing: $0.stringValue!)) }
        var found = 0
        for entry in entries {
            guard let path = entry["path"]?.stringValue else { continue }
            if path == "gen/big.bin" {
                #expect(try store.readBlob(Digest(parsing: entry["blob"]!.stringValue!)) == big)
            }
            guard let bytes = expected[path] else { continue }
            guard case .int(let pack)? = entry["pack"], case .int(let offset)? = entry["offset"] else {
                Issue.record("\(path) has no pack"); continue
            }
            #expect(Array(packBytes[Int(pack)][Int(offset)..<Int(offset) + bytes.count]) == bytes, "\(path)")
            found += 1
        }
        #expect(found == 300)
    }

    @Test("world: a wide, deep tree walked on several threads is listed depth first in byte order, every path once")
    func worldWalkOrder() throws {
        let agent = try Agent()
        let base = agent.root + "/workspace/wide"
        // 150 directories side by side (more than the walkers' stack holds), each two levels deep,
        // with names whose byte order differs from a locale's ("B" < "a", "a-b" < "a/…").
        var expected: [String] = ["wide"]
        for n in 0..<150 {
            let name = n % 2 == 0 ? "a\(n)" : "B\(n)"
            try FileManager.default.createDirectory(atPath: "\(base)/\(name)/x/y", withIntermediateDirectories: true)
            try Data("\(n)".utf8).write(to: URL(fileURLWithPath: "\(base)/\(name)/x/y/leaf"))
            try Data("\(n)".utf8).write(to: URL(fileURLWithPath: "\(base)/\(name)/x-b"))
            expected += ["wide/\(name)", "wide/\(name)/x", "wide/\(name)/x/y", "wide/\(name)/x/y/leaf", "wide/\(name)/x-b"]
        }
        let (_, manifest) = try agent.manifest()
        let store = try SnapshotStore(opening: agent.store)
        let index = try JSONParser.parse(store.readBlob(manifest.world.content.tree.index))
        guard case .array(let entries)? = index["entries"] else { Issue.record("no entries"); return }
        let paths = entries.compactMap { $0["path"]?.stringValue }.filter { $0.hasPrefix("wide") }
        // Depth first: a directory's subtree follows it; siblings in byte order of their names.
        func sortKey(_ path: String) -> [[UInt8]] { path.split(separator: "/").map { Array($0.utf8) } }
        let sorted = expected.sorted { sortKey($0).lexicographicallyPrecedes(sortKey($1)) { $0.lexicographicallyPrecedes($1) } }
        #expect(paths.count == 1 + 150 * 5)
        if let first = zip(paths, sorted).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            Issue.record("entry \(first) is \(paths[first]), expected \(sorted[first])")
        }
    }

    @Test("world: packs grow with the tree, and keep their size while it changes by less than half")
    func worldPackLevel() throws {
        let agent = try Agent()
        let trust = ["--set", "world.racy_window_ms=0", "--tag", "agent"]
        func write(files range: Range<Int>) throws {
            for n in range {
                let directory = agent.root + "/workspace/many/d\(n % 10)"
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                try Data("file \(n)\n".utf8).write(to: URL(fileURLWithPath: directory + "/f\(n).txt"))
            }
        }
        func remove(files range: Range<Int>) throws {
            for n in range { try FileManager.default.removeItem(atPath: agent.root + "/workspace/many/d\(n % 10)/f\(n).txt") }
        }
        // 4,200 small files are more than 256 packs of 16: level 1, packs of about 32 files.
        try write(files: 0..<4_200)
        let (_, big) = try agent.manifest(trust)
        #expect(big.world.annotations["dev.pfhost.world.pack_level"] == "1")
        let bigPacks = try #require(big.world.content.tree.packs)
        #expect(bigPacks.count < 4_200 / 24 && bigPacks.count > 4_200 / 48, "\(bigPacks.count) packs")
        // The index (written to its blob in pieces) is one canonical JSON document listing every entry.
        let indexBytes = try SnapshotStore(opening: agent.store).readBlob(big.world.content.tree.index)
        #expect(indexBytes.count > 256 << 10)
        let index = try JSONParser.parse(indexBytes)
        #expect(CanonicalJSON.encode(index) == indexBytes)
        guard case .array(let entries)? = index["entries"] else { Issue.record("no entries"); return }
        #expect(entries.count == big.world.content.tree.entryCount)

        // 300 fewer files (in one run of names, so most packs are untouched): still level 1, and
        // the untouched packs are the parent's.
        try remove(files: 3_900..<4_200)
        let (_, smaller) = try agent.manifest(trust)
        #expect(smaller.world.annotations["dev.pfhost.world.pack_level"] == "1")
        let reused = Set(try #require(smaller.world.content.tree.packs).map(\.digest)).intersection(bigPacks.map(\.digest))
        #expect(reused.count > bigPacks.count / 2, "\(reused.count) of \(bigPacks.count) packs reused")

        // Down to 1,500 files, level 1 would give fewer than 64 packs: back to level 0.
        try remove(files: 1_500..<3_900)
        let (_, small) = try agent.manifest(trust)
        #expect(small.world.annotations["dev.pfhost.world.pack_level"] == "0")
        #expect(try #require(small.world.content.tree.packs).count > 1_500 / 24)
    }

    @Test("world: a process tree from /proc")
    func processes() throws {
        let agent = try Agent()
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sleep")
        child.arguments = ["30"]
        try child.run()
        defer { child.terminate() }
        let (_, manifest) = try agent.manifest(["--set", "world.pid=\(child.processIdentifier)", "--set", "world.env=false"])
        let processes = try #require(manifest.world.content.processes)
        #expect(processes.count == 1)
        #expect(processes.first?.pid == Int(child.processIdentifier) && processes.first?.cmdline == ["/bin/sleep", "30"])
        #expect(processes.first?.exe?.hasSuffix("sleep") == true)
        #expect(manifest.world.content.env == nil)
    }

    /// Every file under the store, concatenated: what sharing the store would share.
    func storeBytes(_ store: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        let files = try #require(FileManager.default.enumerator(atPath: store))
        for case let relative as String in files {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: store + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue {
                bytes += try Array(Data(contentsOf: URL(fileURLWithPath: store + "/" + relative)))
            }
        }
        return bytes
    }

    @Test("world: secrets in environment values never reach the store; what they were for does")
    func worldSecretValues() throws {
        let agent = try Agent()
        // Built at run time so that the repository holds nothing a secret scanner would flag.
        let token = { (prefix: String, count: Int) in prefix + String((0..<count).map { Array("aB3dE5gH7jK9mN1pQ2sT4vW6yZ8")[$0 % 27] }) }
        let jwt = "eyJhbGciOiJIUzI1NiJ9" + "." + "eyJzdWIiOiJhZ2VudC03In0" + "." + token("", 43)
        let secrets = [
            "DATABASE_URL": ("postgres://u:pwSecret41@h/db", "pwSecret41", "postgres://u:<redacted>@h/db"),
            "HTTP_PROXY": ("http://user:proxyPass42@proxy:3128", "proxyPass42", "http://user:<redacted>@proxy:3128"),
            "GH_PAT": (token("gh" + "p_", 36), token("gh" + "p_", 36), "<redacted>"),
            "SLACK_WEBHOOK_URL": ("https://hooks.slack.com/services/T0001/B0002/" + token("", 24), "T0001/B0002/" + token("", 24),
                                  "https://hooks.slack.com/services/<redacted>"),
            "STRIPE_SK": (token("sk" + "_live_", 24), token("sk" + "_live_", 24), "<redacted>"),
            "MODEL_ENDPOINT_CONFIG": ("openai " + token("sk" + "-proj-", 48), token("sk" + "-proj-", 48), "openai <redacted>"),
            "AWS_ID_HINT": ("AK" + "IAQ2W3E4R5T6Y7U8I9", "AK" + "IAQ2W3E4R5T6Y7U8I9", "<redacted>"),
            "SERVICE_JWT": (jwt, jwt, "<redacted>"),
            "JDBC_URL": ("jdbc:sqlserver://db:1433;user=app;password=jdbcPass43", "jdbcPass43", "jdbc:sqlserver://db:1433;user=app;password=<redacted>"),
        ]
        let (_, manifest) = try agent.manifest(environment: secrets.mapValues(\.0))
        let env = try #require(manifest.world.content.env)
        for (name, (_, _, stored)) in secrets {
            #expect(env[name] == stored, "\(name)")
        }
        let stored = try storeBytes(agent.store)
        // (Booleans first, so that a failure names the secret rather than printing the store.)
        for (name, (_, secret, _)) in secrets {
            let leaked = stored.contains(Array(secret.utf8))
            #expect(!leaked, "\(name)'s secret is in the store")
        }
        // What each value was for is still there.
        for part in ["@h/db", "@proxy:3128", "hooks.slack.com/services/", "jdbc:sqlserver://db:1433;user=app;"] {
            let kept = stored.contains(Array(part.utf8))
            #expect(kept, "\(part)")
        }

        // env_keep: neither rule applies to a listed variable.
        let (_, kept) = try agent.manifest(["--set", "world.env_keep=DATABASE_URL"], environment: ["DATABASE_URL": "postgres://u:pwSecret41@h/db"])
        #expect(kept.world.content.env?["DATABASE_URL"] == "postgres://u:pwSecret41@h/db")
    }

    @Test("world: passwords and keys on a process's command line never reach the store")
    func worldSecretArguments() throws {
        let agent = try Agent()
        let child = Process()
        // `read` is a shell builtin: the shell itself waits (no exec into another program that
        // would replace its command line), and ends when the test closes its input.
        child.executableURL = URL(fileURLWithPath: "/bin/sh")
        child.arguments = ["-c", "read line", "sh", "--password=hunter2x", "--api-key", "abc123secret", "https://u:urlPass44@h/db"]
        let input = Pipe()
        child.standardInput = input
        try child.run()
        defer {
            child.terminate()
            try? input.fileHandleForWriting.close()
            child.waitUntilExit()
        }
        let (_, manifest) = try agent.manifest(["--set", "world.pid=\(child.processIdentifier)"])
        let process = try #require(manifest.world.content.processes?.first { $0.pid == Int(child.processIdentifier) })
        #expect(process.cmdline == ["/bin/sh", "-c", "read line", "sh", "--password=<redacted>", "--api-key", "<redacted>", "https://u:<redacted>@h/db"])
        let stored = try storeBytes(agent.store)
        for secret in ["hunter2x", "abc123secret", "urlPass44"] {
            let leaked = stored.contains(Array(secret.utf8))
            #expect(!leaked, "\(secret) is in the store")
        }
    }

    @Test("world: variables named like passwords by a word or its ending never reach the store; PWD, OLDPWD and near misses are kept")
    func worldSecretNames() throws {
        let agent = try Agent()
        let secrets = ["MYSQL_PWD", "DB_PASS", "SMTP_PASS", "REDIS_PASS", "PGPASS", "ENCRYPTION_PASSPHRASE", "BORG_PASSPHRASE", "CREDS", "BEARER"]
        var environment: [String: String] = [:]
        for (number, name) in secrets.enumerated() { environment[name] = "nameSecret\(number)x" }
        let kept = ["PWD": "/srv/agent", "OLDPWD": "/srv", "PASSENGER_COUNT": "3", "BYPASS": "1", "COMPASS": "north", "SSH_ASKPASS": "/usr/bin/ssh-askpass"]
        // Values: an Authorization parameter, a bare Basic credential, a short Stripe webhook secret.
        let values = [
            "HTTP_HEADER": ("Authorization=Basic valueSecret1x", "Authorization=<redacted>"),
            "PROXY_BASIC": ("Basic " + "dXNlcjp2YWx1ZVNlY3JldDJ4", "Basic <redacted>"),
            "STRIPE_HOOK": ("wh" + "sec_" + "valueSecret3xyzab", "<redacted>"),
            "DB_OPTS": ("--db-password valueSecret4x --verbose", "--db-password <redacted> --verbose"),
        ]
        let (_, manifest) = try agent.manifest(environment: environment.merging(kept) { $1 }.merging(values.mapValues(\.0)) { $1 })
        let env = try #require(manifest.world.content.env)
        for name in secrets { #expect(env[name] == "<redacted>", "\(name)") }
        for (name, value) in kept { #expect(env[name] == value, "\(name)") }
        for (name, (_, stored)) in values { #expect(env[name] == stored, "\(name)") }
        let stored = try storeBytes(agent.store)
        for secret in (0..<secrets.count).map({ "nameSecret\($0)x" }) + ["valueSecret1x", "dXNlcjp2YWx1ZVNlY3JldDJ4", "valueSecret3", "valueSecret4x"] {
            let leaked = stored.contains(Array(secret.utf8))
            #expect(!leaked, "\(secret) is in the store")
        }
    }

    @Test("world: curl's -u/--user passwords on a command line never reach the store; the user names do")
    func worldCurlPasswords() throws {
        let agent = try Agent()
        // A shell started as `curl`, so that its argv[0] names curl and it waits on its input.
        let curl = agent.dir.file("curl")
        try FileManager.default.createSymbolicLink(atPath: curl, withDestinationPath: "/bin/sh")
        let child = Process()
        child.executableURL = URL(fileURLWithPath: curl)
        child.arguments = ["-c", "read line", "sh", "-u", "alice:curlPass1x", "--user=bob:curlPass2x", "--proxy-user", "carol:curlPass3x"]
        let input = Pipe()
        child.standardInput = input
        try child.run()
        defer {
            child.terminate()
            try? input.fileHandleForWriting.close()
            child.waitUntilExit()
        }
        let (_, manifest) = try agent.manifest(["--set", "world.pid=\(child.processIdentifier)"])
        let process = try #require(manifest.world.content.processes?.first { $0.pid == Int(child.processIdentifier) })
        #expect(process.cmdline == [curl, "-c", "read line", "sh", "-u", "alice:<redacted>", "--user=bob:<redacted>", "--proxy-user", "carol:<redacted>"])
        let stored = try storeBytes(agent.store)
        for secret in ["curlPass1x", "curlPass2x", "curlPass3x"] {
            let leaked = stored.contains(Array(secret.utf8))
            #expect(!leaked, "\(secret) is in the store")
        }
    }

    @Test("world: bad settings are refused")
    func worldInputs() throws {
        let agent = try Agent()
        #expect(try agent.failure(of: .world, ["--set", "world.root=\(agent.root)/missing"]).contains("\(agent.root)/missing: no such directory (world.root)"))
        #expect(try agent.failure(of: .world, ["--set", "world.root=\(agent.root)/pfhost.json"]).contains("world.root is not a directory"))
        #expect(try agent.failure(of: .world, ["--set", "world.pid=-3"]).contains("world.pid='-3' is not a process id"))
        // Values of the wrong type are the host's to refuse, from the declared settings (exit 78).
        for (setting, problem) in [("world.pid=abc", "world.pid='abc' must be a decimal integer"), ("world.env=maybe", "world.env='maybe' must be true or false"),
                                   ("world.keep_private_keys=perhaps", "world.keep_private_keys='perhaps' must be true or false")] {
            let output = try agent.snapshot(["--set", setting])
            #expect(output.status == 78 && output.stderr.contains(problem), "\(output)")
        }
        #expect(try agent.failure(of: .world, ["--set", "world.racy_window_ms=9223372036854775807"]).contains("world.racy_window_ms='9223372036854775807' is too large"))
    }

    // MARK: effects

    @Test("effects: entries, pending count and the head of the hash chain")
    func effects() throws {
        let agent = try Agent()
        let (_, manifest) = try agent.manifest()
        let effects = manifest.effects.content
        let lines = try agent.read("effects/ledger.jsonl").split(separator: "\n")
        #expect(effects.entryCount == 4 && effects.pendingCount == 1)
        #expect(effects.head == Digest.of(Array(lines.last!.utf8)).hex)
        #expect(try SnapshotStore(opening: agent.store).readBlob(effects.ledger) == Array(try agent.read("effects/ledger.jsonl").utf8))
    }

    @Test("effects: an appended ledger is checked from the parent's head; an unchanged one is the parent's layer")
    func appendedLedger() throws {
        let agent = try Agent()
        let (_, first) = try agent.manifest(["--tag", "agent"])
        let (_, unchanged) = try agent.manifest(["--tag", "agent"])
        #expect(unchanged.effects.content == first.effects.content && unchanged.trace.content == first.trace.content)
        let original = try agent.read("effects/ledger.jsonl")
        let last = String(original.split(separator: "\n").last!)
        let next = #"{"id":"fx-5","idempotency_key":"key-5","kind":"fs.write","prev":"sha256:\#(Digest.of(Array(last.utf8)).hex)","status":"pending","target":"x","time":"2026-11-27T11:00:00Z"}"#
        try agent.write("effects/ledger.jsonl", original + next + "\n")
        let (_, appended) = try agent.manifest(["--tag", "agent"])
        #expect(appended.effects.content.entryCount == 5 && appended.effects.content.pendingCount == 2)
        #expect(appended.effects.content.head == Digest.of(Array(next.utf8)).hex)
        // The same file read from scratch (no parent) gives the same layer.
        let (_, fresh) = try agent.manifest(["--tag", "other"])
        #expect(fresh.effects.content == appended.effects.content)
        // A bad link right after the parent's lines is still found, with its line number.
        try agent.write("effects/ledger.jsonl", original + next.replacingOccurrences(of: "sha256:", with: "sha256:0") + "\n")
        #expect(try agent.failure(of: .effects, ["--tag", "agent"]).contains("effects/ledger.jsonl: line 5: the hash chain is broken"))
    }

    @Test("verify holds a reference ledger, conversation and KV cache to their rules: head, hash chain, status, open tool calls, last message id, totals; in every mode",
          arguments: ["head", "chain", "status", "junk line", "pending", "open calls", "media type", "last id", "answer", "tokens", "pages", "page bytes"])
    func verifyFormatRules(forgery: String) throws {
        let agent = try Agent()
        let (id, manifest) = try agent.manifest(["--tag", "main"])
        let ledgerLines = try agent.read("effects/ledger.jsonl").split(separator: "\n").map(String.init)
        #expect(manifest.effects.content.head == Digest.of(Array(ledgerLines.last!.utf8)).hex)
        #expect(try pfhost("verify", "--all", "--store", agent.store).status == 0)
        let store = try SnapshotStore(opening: agent.store)

        /// A blob of `lines` in the store, as a layer lists it.
        func blob(_ lines: [String]) throws -> (digest: String, listed: JSONValue, descriptor: OCIDescriptor) {
            let stored = try store.putBlob(Array((lines.joined(separator: "\n") + "\n").utf8))
            try store.flush()
            return (stored.digest.description, .array([.object(["digest": .string(stored.digest.description),
                                                                 "media_type": .string("application/x-ndjson"), "size": .int(stored.size)])]),
                    OCIDescriptor(mediaType: "application/x-ndjson", digest: stored.digest, size: stored.size))
        }
        let expected: String
        switch forgery {
        case "head":
            let forged = String(repeating: "ab", count: 32)
            _ = try LayerForgery.editingLayer(.effects, of: id, in: store, tag: "lying") { $0["head"] = .string(forged) }
            expected = "the effects layer: the layer declares head \(forged), the SHA-256 of its ledger's last line is \(manifest.effects.content.head!)"
        case "chain", "status":
            // One entry's status changed and the counts and head made to match: only the rules tell.
            var lines = ledgerLines
            lines[1] = lines[1].replacingOccurrences(of: #""status":"committed""#, with: forgery == "chain" ? #""status":"compensated""# : #""status":"done""#)
            let (digest, listed, descriptor) = try blob(lines)
            _ = try LayerForgery.editingLayer(.effects, of: id, in: store, tag: "lying", listingAlso: [descriptor]) { members in
                members["ledger"] = .string(digest)
                members["blobs"] = listed
                members["head"] = .string(Digest.of(Array(lines.last!.utf8)).hex)
            }
            expected = forgery == "chain"
                ? "the effects layer: its ledger line 3: the hash chain is broken: prev is"
                : "the effects layer: its ledger line 2: status 'done' is not pending, committed or compensated"
        case "junk line":
            // A line no plugin would take, the counts and head made to match.
            let lines = ledgerLines + ["#"]
            let (digest, listed, descriptor) = try blob(lines)
            _ = try LayerForgery.editingLayer(.effects, of: id, in: store, tag: "lying", listingAlso: [descriptor]) { members in
                members["ledger"] = .string(digest)
                members["blobs"] = listed
                members["entry_count"] = .int(Int64(lines.count))
                members["head"] = .string(Digest.of(Array("#".utf8)).hex)
            }
            expected = "the effects layer: its ledger line \(lines.count) is not a ledger entry: invalid JSON at column 1: unexpected character"
        case "pending":
            // The one pending effect (fx-4) hidden: a restore would no longer report it.
            _ = try LayerForgery.editingLayer(.effects, of: id, in: store, tag: "lying") { $0["pending_count"] = .int(0) }
            expected = "the effects layer: the layer declares pending_count 0, its blob holds 1 pending entry"
        case "media type":
            // The conversation's blob given another media type: still the reference plugin's, still judged.
            _ = try LayerForgery.editingLayer(.trace, of: id, in: store, tag: "lying") { members in
                if case .array(var blobs)? = members["blobs"], case .object(var first)? = blobs.first {
                    first["media_type"] = .string("application/octet-stream")
                    blobs[0] = .object(first)
                    members["blobs"] = .array(blobs)
                }
                if case .object(var notes)? = members["annotations"] { notes["dev.pfhost.trace.open_tool_calls"] = .string(#"["call-evil"]"#); members["annotations"] = .object(notes) }
            }
            expected = #"the trace layer: the layer's dev.pfhost.trace.open_tool_calls is ["call-evil"], its conversation leaves [] open"#
        case "open calls":
            _ = try LayerForgery.editingLayer(.trace, of: id, in: store, tag: "lying") { members in
                if case .object(var notes)? = members["annotations"] { notes["dev.pfhost.trace.open_tool_calls"] = .string(#"["call-evil"]"#); members["annotations"] = .object(notes) }
            }
            expected = #"the trace layer: the layer's dev.pfhost.trace.open_tool_calls is ["call-evil"], its conversation leaves [] open"#
        case "tokens", "pages", "page bytes":
            let cache = manifest.cache.content
            let member = ["tokens": "token_count", "pages": "page_count", "page bytes": "page_bytes"][forgery]!
            let value = forgery == "tokens" ? cache.tokenCount + 1 : forgery == "pages" ? cache.pageCount + 1 : Int(cache.pageBytes! * 2)
            _ = try LayerForgery.editingLayer(.cache, of: id, in: store, tag: "lying") { $0[member] = .int(Int64(value)) }
            let pack = try #require(cache.packs.first)
            expected = [
                "tokens": "the cache layer: the layer declares token_count \(value), its sequences hold \(cache.tokenCount) tokens",
                "pages": "the cache layer: the layer declares page_count \(value), its packs hold \(cache.pageCount) pages",
                "page bytes": "the cache layer: pack \(pack.digest) holds \(Int64(pack.pageCount) * cache.pageBytes!) bytes, not its \(pack.pageCount) pages of \(value) bytes",
            ][forgery]!
        case "last id":
            _ = try LayerForgery.editingLayer(.trace, of: id, in: store, tag: "lying") { $0["last_message_id"] = .string("mX") }
            expected = "the trace layer: the layer declares last_message_id mX, its last message's id is \(manifest.trace.content.lastMessageId!)"
        default:
            var lines = try agent.read("trace/conversation.jsonl").split(separator: "\n").map(String.init)
            lines.append(#"{"content":"done","id":"m99","role":"tool","tool_call_id":"call-never"}"#)
            let (digest, listed, descriptor) = try blob(lines)
            _ = try LayerForgery.editingLayer(.trace, of: id, in: store, tag: "lying", listingAlso: [descriptor]) { members in
                members["messages"] = .string(digest)
                members["blobs"] = listed
                members["message_count"] = .int(Int64(lines.count))
                members["last_message_id"] = .string("m99")
            }
            expected = "the trace layer: its conversation line \(try agent.read("trace/conversation.jsonl").split(separator: "\n").count + 1): tool message answers 'call-never', which is not an open call"
        }
        // The forged snapshot shares every other layer, and often its blobs, with the honest one:
        // each mode of verify still reports it.
        for arguments in [["lying"], [], ["--all"]] {
            let verify = try pfhost(["verify"] + arguments + ["--store", agent.store])
            #expect(verify.status == 1, "\(arguments): \(verify)")
            #expect(verify.stdout.contains(expected), "\(arguments): \(verify)")
        }
        #expect(try pfhost("verify", "main", "--store", agent.store).status == 0)
    }

    @Test("verify judges a conversation as the plugin read it: a byte-order mark, any number, a lone surrogate, a long line are no problem")
    func verifyReadsOtherProgramsJSON() throws {
        let agent = try Agent()
        let conversation = try agent.read("trace/conversation.jsonl")
        let long = #"{"role":"user","content":""# + String(repeating: "y", count: 3 << 20) + "\"}\n"
        try agent.write("trace/conversation.jsonl", "\u{FEFF}" + conversation + #"{"role":"user","content":"x","score":1.5e3,"big":123456789012345678901234,"t":-0.25}"# + "\n"
                        + #"{"role":"user","content":"cut \ud83d emoji"}"# + "\n" + long)
        _ = try agent.manifest(["--tag", "main"])
        let verify = try pfhost("verify", "--all", "--store", agent.store)
        #expect(verify.status == 0, "\(verify)")
    }

    @Test("effects: a broken chain or a bad entry is refused, naming the line")
    func damagedLedger() throws {
        let agent = try Agent()
        let original = try agent.read("effects/ledger.jsonl")
        try agent.write("effects/ledger.jsonl", original.replacingOccurrences(of: "\"fx-2\"", with: "\"fx-2b\""))
        #expect(try agent.failure(of: .effects).contains("effects/ledger.jsonl: line 3: the hash chain is broken: prev is sha256:"))
        try agent.write("effects/ledger.jsonl", original.replacingOccurrences(of: "\"pending\"", with: "\"maybe\""))
        #expect(try agent.failure(of: .effects).contains("line 4: status 'maybe' is not pending, committed or compensated"))
        try agent.write("effects/ledger.jsonl", original + "{oops\n")
        #expect(try agent.failure(of: .effects).contains("effects/ledger.jsonl: line 5, column 2: unexpected character 'o', expected a string key"))
        try FileManager.default.removeItem(atPath: agent.root + "/effects/ledger.jsonl")
        #expect(try agent.failure(of: .effects).contains("effects/ledger.jsonl: no such file"))
    }

    // MARK: trace

    @Test("trace: message count and the last message id")
    func trace() throws {
        let agent = try Agent()
        let (_, manifest) = try agent.manifest()
        #expect(manifest.trace.content.messageCount == 6)
        #expect(manifest.trace.content.lastMessageId == "m6")
    }

    @Test("trace: a grown conversation is checked from the parent's open calls and gives what a full read gives")
    func appendedTrace() throws {
        let agent = try Agent()
        let call = #"{"id":"m7","role":"assistant","content":null,"tool_calls":[{"id":"call-3","type":"function","function":{"name":"ls","arguments":"{}"}}]}"#
        try agent.write("trace/conversation.jsonl", try agent.read("trace/conversation.jsonl") + call + "\n")
        let (_, first) = try agent.manifest(["--tag", "agent"])
        #expect(first.trace.annotations["dev.pfhost.trace.open_tool_calls"] == #"["call-3"]"#)
        let answer = #"{"id":"m8","role":"tool","tool_call_id":"call-3","content":"a b"}"#
        try agent.write("trace/conversation.jsonl", try agent.read("trace/conversation.jsonl") + answer + "\n")
        let (_, second) = try agent.manifest(["--tag", "agent"])
        #expect(second.trace.content.messageCount == 8 && second.trace.content.lastMessageId == "m8")
        #expect(second.trace.annotations["dev.pfhost.trace.open_tool_calls"] == "[]")
        let (_, fresh) = try agent.manifest(["--tag", "fresh"])
        #expect(fresh.trace == second.trace)
        // Answering it again is refused, from the parent's state alone.
        try agent.write("trace/conversation.jsonl", try agent.read("trace/conversation.jsonl") + answer + "\n")
        #expect(try agent.failure(of: .trace, ["--tag", "agent"]).contains("line 9: tool message answers 'call-3', which is not an open call"))
    }

    @Test("trace and effects: a last line cut in the middle (a writer not finished) fails saying to retry; once finished, the snapshot succeeds",
          arguments: [LayerKind.trace, .effects])
    func lastLineBeingWritten(kind: LayerKind) throws {
        let agent = try Agent()
        let file = kind == .trace ? "trace/conversation.jsonl" : "effects/ledger.jsonl"
        let whole = try agent.read(file)
        let lines = whole.split(separator: "\n").count
        try agent.write(file, String(whole.dropLast(20)))
        let message = try agent.failure(of: kind, ["--tag", "agent"])
        #expect(message.contains("\(file): line \(lines), column"), "\(message)")
        #expect(message.contains("(the file's last line, with no newline yet: if the agent is still writing it, retry the snapshot)"), "\(message)")
        try agent.write(file, whole)
        #expect(try agent.snapshot(["--tag", "agent"]).status == 0)
    }

    @Test("racy_window_ms is an int setting (the host refuses a word with exit 78) that the plugin refuses when negative, saying so")
    func racyWindowSetting() throws {
        let agent = try Agent()
        let message = try agent.failure(of: .trace, ["--set", "trace.racy_window_ms=-5000"])
        #expect(message.contains("trace.racy_window_ms='-5000' is negative: set 0 or more milliseconds"), "\(message)")
        #expect(try agent.snapshot(["--set", "trace.racy_window_ms=2s"]).status == 78)
    }

    @Test("trace and effects: a parent captured between a line and its newline is read again in full once the line is finished",
          arguments: [LayerKind.trace, .effects])
    func parentWithoutFinalNewline(kind: LayerKind) throws {
        let agent = try Agent()
        let file = kind == .trace ? "trace/conversation.jsonl" : "effects/ledger.jsonl"
        let whole = try agent.read(file)
        try agent.write(file, String(whole.dropLast()))
        _ = try agent.manifest(["--tag", "agent"])
        try agent.write(file, whole)
        let (_, finished) = try agent.manifest(["--tag", "agent"])
        let (_, fresh) = try agent.manifest(["--tag", "fresh"])
        #expect(try finished.encodedLayer(kind) == fresh.encodedLayer(kind))
    }

    @Test("trace: bad messages are refused, naming the line", arguments: [
        (#"{"role":"robot","content":"x"}"#, "line 1: unknown role 'robot' (system, user, assistant or tool)"),
        (#"{"role":"tool","tool_call_id":"nope","content":"x"}"#, "line 1: tool message answers 'nope', which is not an open call (none made earlier, or already answered)"),
        (#"{"content":"x"}"#, "line 1: missing 'role'"),
        ("[1,2]", "line 1 is not a JSON object"),
    ])
    func damagedTrace(line: String, reason: String) throws {
        let agent = try Agent()
        try agent.write("trace/conversation.jsonl", line + "\n")
        let message = try agent.failure(of: .trace)
        #expect(message.contains("trace/conversation.jsonl: \(reason)"), "\(message)")
    }

    @Test("trace and effects: a settled file's stat data is kept, so the next capture of it unchanged reads nothing; a write is always seen",
          arguments: [(LayerKind.trace, "trace/conversation.jsonl"), (LayerKind.effects, "effects/ledger.jsonl")])
    func settledFileStat(kind: LayerKind, file: String) throws {
        let agent = try Agent()
        let key = "dev.pfhost.\(kind).file_stat"
        func annotations(_ manifest: Manifest) -> [String: String] {
            kind == .trace ? manifest.trace.annotations : manifest.effects.annotations
        }
        // Just written: within the racy window (2 s by default), so no record is kept.
        let (_, fresh) = try agent.manifest(["--tag", "a"])
        #expect(annotations(fresh)[key] == nil)
        // Trusted at once (racy_window_ms=0): the record names this very file.
        let trust = ["--set", "\(kind).racy_window_ms=0", "--tag", "a"]
        let (_, recorded) = try agent.manifest(trust)
        let attributes = try FileManager.default.attributesOfItem(atPath: agent.root + "/" + file)
        let record = try #require(annotations(recorded)[key])
        #expect(record.hasPrefix("size=\(attributes[.size] as! Int) ") && record.hasSuffix(" inode=\(attributes[.systemFileNumber] as! Int)"), "\(record)")
        // Unchanged: the parent's layer, record and all, stored as the parent's.
        let again = try agent.snapshot(trust + ["--verbose"])
        #expect(again.status == 0 && again.stderr.contains("unchanged, stored as the parent's") && again.stderr.contains("\(kind)"), "\(again)")
        let (_, unchanged) = try agent.manifest(trust)
        #expect(annotations(unchanged) == annotations(recorded))
        // Rewritten in place, same size, same inode: its timestamps moved, so it is read again.
        let original = try agent.read(file)
        let edited = kind == .trace ? original.replacingOccurrences(of: "\"role\": \"user\"", with: "\"role\": \"tool\"")
                                    : original.replacingOccurrences(of: "\"fx-2\"", with: "\"fx-9\"")
        #expect(edited != original && edited.utf8.count == original.utf8.count)
        let handle = try #require(FileHandle(forWritingAtPath: agent.root + "/" + file))
        try handle.write(contentsOf: Data(edited.utf8))
        try handle.close()
        if kind == .effects {
            #expect(try agent.failure(of: .effects, trust).contains("the hash chain is broken"))
        } else {
            let message = try agent.failure(of: .trace, trust)
            #expect(message.contains("line 2: missing 'tool_call_id'"), "\(message)")
        }
        // The record is only a shortcut: the same bytes with another stat are still the parent's layer.
        try agent.write(file, original)
        let (_, rewritten) = try agent.manifest(trust)
        #expect(rewritten.trace.content == recorded.trace.content && rewritten.effects.content == recorded.effects.content)
        let next = try #require(annotations(rewritten)[key])
        #expect(next != record)
    }

    // MARK: the whole agent

    @Test("twice with --tag: the chain, nothing unchanged stored again, verify clean, skopeo copies it")
    func endToEnd() throws {
        let agent = try Agent()
        let (first, _) = try agent.manifest(["--tag", "agent"])
        let blobs = agent.blobCount
        let (second, manifest) = try agent.manifest(["--tag", "agent"])
        #expect(manifest.parents == [first])
        // Only the new snapshot index: weights, KV packs, files and every layer's documents are reused.
        #expect(agent.blobCount == blobs + 1)
        let verify = try pfhost("verify", "--all", "--store", agent.store)
        #expect(verify.status == 0 && verify.stdout == "ok: 2 snapshots verified, and every blob\n", "\(verify)")
        let copy = try run("/usr/bin/skopeo", ["--insecure-policy", "copy", "--all", "--preserve-digests", "oci:\(agent.store):agent", "oci:\(agent.dir.file("copy")):agent"])
        #expect(copy.status == 0, "\(copy)")
        let copied = try pfhost("verify", "--all", "--store", agent.dir.file("copy"))
        #expect(copied.status == 0, "\(copied)")
        #expect(try pfhost("show", "agent", "--store", agent.dir.file("copy")).stdout.hasPrefix("snapshot \(second)"))
    }

    @Test("appending KV pages to one sequence rewrites only the packs that changed")
    func incrementalCache() throws {
        let agent = try Agent()
        let (_, before) = try agent.manifest(["--tag", "agent"])
        // Grow seq-b by two new pages (slots appended to pages.bin).
        var sequences = try agent.read("kv/sequences.jsonl").split(separator: "\n").map(String.init)
        var seqB = try JSONSerialization.jsonObject(with: Data(sequences[1].utf8)) as! [String: Any]
        seqB["tokens"] = (seqB["tokens"] as! [Int]) + (0..<32).map { 40000 + $0 }
        seqB["pages"] = (seqB["pages"] as! [Int]) + [12, 13]
        sequences[1] = String(decoding: try JSONSerialization.data(withJSONObject: seqB), as: UTF8.self)
        try agent.write("kv/sequences.jsonl", sequences.joined(separator: "\n") + "\n")
        let pages = try FileHandle(forWritingTo: URL(fileURLWithPath: agent.root + "/kv/pages.bin"))
        try pages.seekToEnd()
        pages.write(Data(repeating: 0xAB, count: 2 * 2048))
        try pages.close()
        let (_, after) = try agent.manifest(["--tag", "agent"])
        let old = Set(before.cache.content.packs.map(\.digest))
        let new = after.cache.content.packs.filter { !old.contains($0.digest) }
        #expect(after.cache.content.pageCount == 14)
        // seq-a's packs are all reused; only seq-b's tail changed.
        #expect(new.reduce(0) { $0 + $1.pageCount } < 14)
        #expect(new.count <= 2, "\(new)")
    }

    @Test("a third-party C plugin built with only the header replaces a reference plugin")
    func cPlugin() throws {
        let agent = try Agent()
        let build = agent.dir.directory("c-plugin")
        for file in ["trace_lines.c", "Makefile"] {
            try FileManager.default.copyItem(atPath: repositoryRoot + "/plugin-sdk/examples/c/" + file, toPath: build + "/" + file)
        }
        let make = try run("/usr/bin/make", ["-C", build, "SDK_INCLUDE=\(repositoryRoot)/plugin-sdk/include"])
        #expect(make.status == 0, "\(make)")
        let symbols = try run("/usr/bin/nm", ["-D", "--defined-only", build + "/libexample-trace.so"])
        #expect(symbols.stdout.split(separator: "\n").map { $0.split(separator: " ").last.map(String.init) } == ["pf_plugin_entry_v1"])
        try FileManager.default.removeItem(atPath: agent.plugins + "/libpf-trace.so")
        try FileManager.default.copyItem(atPath: build + "/libexample-trace.so", toPath: agent.plugins + "/libexample-trace.so")
        let (_, manifest) = try agent.manifest()
        #expect(manifest.trace.plugin == PluginRef(id: "org.example.trace.lines", version: "1.0.0"))
        #expect(manifest.trace.content.messageCount == 6)
        let missing = try agent.failure(of: .trace, file: "libexample-trace.so", ["--set", "trace.path=\(agent.root)/none.jsonl"])
        #expect(missing.contains("cannot open trace.path \(agent.root)/none.jsonl"))
    }
}
