import Foundation
import Testing
import PFModel
import PFStore

/// `pfhost restore`, run as a process on the reference plugins: round trips, forks, `--only`,
/// TARGET handling, the hosted agent and the C example.
@Suite("pfhost restore")
struct RestoreTests {
    typealias Agent = ReferencePluginTests.Agent

    // MARK: Helpers

    /// What `lstat` says of one entry, and its content (a file's bytes, a link's target).
    struct Node: Hashable, CustomStringConvertible {
        let type: mode_t
        let mode: mode_t
        let mtime: Int64
        let content: [UInt8]

        var description: String { "type \(String(type, radix: 8)) mode \(String(mode, radix: 8)) mtime \(mtime) \(content.count) bytes" }
    }

    /// Every entry under `root` (not `root` itself), by path bytes, walked through descriptors so
    /// names are bytes and paths may be longer than PATH_MAX.
    static func tree(_ root: String) throws -> [[UInt8]: Node] {
        var nodes: [[UInt8]: Node] = [:]
        let fd = open(root, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno)!) }
        try walk(fd, prefix: [], into: &nodes)
        return nodes
    }

    private static func walk(_ directory: Int32, prefix: [UInt8], into nodes: inout [[UInt8]: Node]) throws {
        guard let stream = fdopendir(directory) else { throw POSIXError(.init(rawValue: errno)!) }
        defer { closedir(stream) }
        var names: [[UInt8]] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.prefix(while: { $0 != 0 }))
            }
            if name != [46] && name != [46, 46] { names.append(name) }
        }
        for name in names {
            let path = prefix.isEmpty ? name : prefix + [UInt8(ascii: "/")] + name
            var info = stat()
            let cName = name.map { CChar(bitPattern: $0) } + [0]
            guard fstatat(directory, cName, &info, AT_SYMLINK_NOFOLLOW) == 0 else { throw POSIXError(.init(rawValue: errno)!) }
            let type = info.st_mode & S_IFMT
            var content: [UInt8] = []
            switch type {
            case S_IFREG:
                let file = openat(directory, cName, O_RDONLY | O_NOFOLLOW)
                guard file >= 0 else { throw POSIXError(.init(rawValue: errno)!) }
                var buffer = [UInt8](repeating: 0, count: 1 << 16)
                while case let n = read(file, &buffer, buffer.count), n > 0 { content += buffer[0..<n] }
                close(file)
            case S_IFLNK:
                var buffer = [CChar](repeating: 0, count: 8192)
                let n = readlinkat(directory, cName, &buffer, buffer.count)
                content = buffer[0..<max(0, n)].map { UInt8(bitPattern: $0) }
            case S_IFDIR:
                let sub = openat(directory, cName, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
                guard sub >= 0 else { throw POSIXError(.init(rawValue: errno)!) }
                try walk(sub, prefix: path, into: &nodes)
            default:
                break
            }
            let mtime = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
            nodes[path] = Node(type: type, mode: info.st_mode & 0o7777, mtime: mtime, content: content)
        }
    }

    /// Sets the mtime (and atime) of `path`, not following a symlink.
    static func setTime(_ path: String, _ nanoseconds: Int64) {
        let time = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        _ = [time, time].withUnsafeBufferPointer { utimensat(AT_FDCWD, path, $0.baseAddress, AT_SYMLINK_NOFOLLOW) }
    }

    /// Runs `pfhost restore` on the agent's store and plugins.
    static func restore(_ agent: Agent, _ reference: String, to target: String, _ extra: [String] = [],
                        environment: [String: String] = [:]) throws -> ProcessOutput {
        try run(productsDirectory + "/pfhost", ["restore", reference, "--plugins", agent.plugins, "--store", agent.store, "--to", target] + extra,
                environment: environment)
    }

    /// The blob digests of each layer, in order.
    static func blobs(_ manifest: Manifest) -> [LayerKind: [Digest]] {
        Dictionary(uniqueKeysWithValues: manifest.layerSummaries.map { ($0.kind, $0.blobs.map(\.digest)) })
    }

    /// Entries of `directory` whose name contains `.pfhost-partial-` (restores left behind).
    static func partials(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.contains(".pfhost-partial-") }
    }

    // MARK: Round trip

    @Test("round trip: a restored agent snapshots to the same blobs for all five layers, its tree byte-identical (names, modes, mtimes, symlinks)")
    func roundTrip() throws {
        let agent = try Agent()
        let workspace = agent.root + "/workspace"
        // Names no decoder accepts, modes, a long path, a link that leads out, a file stored as a blob.
        let long = [UInt8](repeating: UInt8(ascii: "d"), count: 250)
        var deep: [UInt8] = []
        for level in 0..<18 { deep += long + [UInt8(ascii: "0") + UInt8(level % 10), UInt8(ascii: "/")] }
        deep += Array("deep.txt".utf8)
        let files: [[UInt8]: [UInt8]] = [
            Array("bad".utf8) + [0xff]: Array("a name that is not UTF-8".utf8),
            Array("new\nline".utf8): Array("a newline in the name".utf8),
            Array("private/secret-ish.txt".utf8): Array("mode 0600".utf8),
            Array("bin/run.sh".utf8): Array("#!/bin/sh\necho hi\n".utf8),
            Array("big.bin".utf8): (0..<150_000).map { UInt8(truncatingIfNeeded: $0 &* 31) },
            Array("empty".utf8): [],
            deep: Array("at the bottom of 4 KiB of path".utf8),
        ]
        for (path, content) in files { try CaptureSecurityTests.create(workspace, path, content) }
        chmod(workspace + "/private/secret-ish.txt", 0o600)
        chmod(workspace + "/private", 0o750)
        chmod(workspace + "/bin/run.sh", 0o755)
        try FileManager.default.createSymbolicLink(atPath: workspace + "/outside", withDestinationPath: "/etc/hostname")
        try FileManager.default.createSymbolicLink(atPath: workspace + "/bin/up", withDestinationPath: "../data")
        // Times with nanoseconds, files first, then links, then directories deepest first.
        var stamp: Int64 = 1_577_934_245_123_456_789
        for path in ["README.md", "private/secret-ish.txt", "bin/run.sh", "big.bin", "empty", "outside", "bin/up"] {
            Self.setTime(workspace + "/" + path, stamp)
            stamp += 1_000_000_007
        }
        for directory in ["private", "bin", "data", "notes", "src"] { Self.setTime(workspace + "/" + directory, stamp) }

        let (original, first) = try agent.manifest(["--tag", "main"])
        let target = agent.dir.file("b")
        let output = try Self.restore(agent, "main", to: target, ["--json"])
        #expect(output.status == 0, "\(output)")
        let json = try JSONParser.parse(Array(output.stdout.utf8.dropLast()))
        #expect(json["target"] == .string(target) && json["id"] == .string(original.description))
        #expect(json["layers"]?["effects"]?["reports"]?["pending_effects"] == .string("fx-4"), "\(output)")
        #expect(output.stderr.contains("pfhost: effects: pending_effects: fx-4"), "\(output)")
        #expect(json["layers"]?["world"]?["reports"]?["not_recreated"]?.stringValue?.contains("environment") == true, "\(output)")
        #expect(Self.partials(in: agent.dir.path).isEmpty)

        // The fork: a snapshot of the restored directory with its own config, the original as parent.
        let fork = try run(productsDirectory + "/pfhost", ["snapshot", "--plugins", agent.plugins, "--store", agent.store,
                                                           "--config", target + "/pfhost.json", "--parent", "main", "--tag", "b"])
        #expect(fork.status == 0, "\(fork)")
        let forkID = try Digest(parsing: fork.stdout.trimmingCharacters(in: .newlines))
        let second = try SnapshotStore(opening: agent.store).snapshot(forkID).manifest
        #expect(second.parents == [original])
        #expect(second.agent == first.agent)
        let before = Self.blobs(first), after = Self.blobs(second)
        for kind in LayerKind.allCases {
            #expect(before[kind] == after[kind], "\(kind): \(before[kind]!) vs \(after[kind]!)")
        }
        #expect(second.world.content.tree.entryCount == first.world.content.tree.entryCount)
        #expect(second.model.content == first.model.content)
        #expect(second.effects.content == first.effects.content && second.trace.content == first.trace.content)

        // The tree itself: every name, type, mode, mtime, content and link target.
        let originalTree = try Self.tree(workspace), restoredTree = try Self.tree(target + "/world/tree")
        #expect(originalTree.count == restoredTree.count)
        for (path, node) in originalTree {
            #expect(restoredTree[path] == node, "\(String(decoding: path, as: UTF8.self)): \(node) vs \(restoredTree[path].map(\.description) ?? "missing")")
        }
        #expect(restoredTree[Array("outside".utf8)]?.content == Array("/etc/hostname".utf8))
        // diff names files by full path, which the deep one outgrows (PATH_MAX): the walk above covers it.
        let diff = try run("/usr/bin/diff", ["-r", "--no-dereference", "-x", String(repeating: "d", count: 250) + "*", workspace, target + "/world/tree"])
        #expect(diff.status == 0, "\(diff)")
        for (original, restored) in [("model", "model"), ("effects", "effects"), ("trace", "trace")] {
            let compared = try run("/usr/bin/diff", ["-r", agent.root + "/" + original, target + "/" + restored])
            #expect(compared.status == 0, "\(compared)")
        }
        #expect(FileManager.default.contents(atPath: target + "/world/dom.html") == FileManager.default.contents(atPath: agent.root + "/browser/page.html"))
    }

    @Test("--only restores some layers; pfhost.json has only their sections")
    func only() throws {
        let agent = try Agent()
        _ = try agent.manifest(["--tag", "main"])
        let target = agent.dir.file("b")
        let output = try Self.restore(agent, "main", to: target, ["--only", "model,trace"])
        #expect(output.status == 0 && output.stdout == target + "\n", "\(output)")
        #expect(output.stderr.contains("not restored (--only): cache, world, effects"), "\(output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: target).sorted() == ["model", "pfhost.json", "trace"])
        let config = try JSONParser.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: target + "/pfhost.json"))))
        #expect(config.objectValue.map { Set($0.keys) } == ["agent", "model", "trace"])
        #expect(config["trace"]?["path"] == .string("trace/conversation.jsonl"))
        #expect(config["model"]?["path"] == .string("model"))
        let bad = try Self.restore(agent, "main", to: agent.dir.file("c"), ["--only", "weights"])
        #expect(bad.status == 64 && bad.stderr.contains("--only 'weights' is not a layer"), "\(bad)")
    }

    @Test("TARGET: a non-empty directory or a file is refused (73) and left alone; an empty one is used; --force replaces either")
    func target() throws {
        let agent = try Agent()
        _ = try agent.manifest(["--tag", "main"])
        let occupied = agent.dir.directory("occupied")
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: occupied + "/mine.txt"))
        let refused = try Self.restore(agent, "main", to: occupied)
        #expect(refused.status == 73, "\(refused)")
        #expect(refused.stderr.contains("\(occupied) is a directory that is not empty: restore into a new or empty directory, or pass --force"), "\(refused)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: occupied) == ["mine.txt"])
        let file = agent.dir.file("a-file")
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let notDirectory = try Self.restore(agent, "main", to: file)
        #expect(notDirectory.status == 73 && notDirectory.stderr.contains("exists and is not a directory"), "\(notDirectory)")

        let empty = agent.dir.directory("empty")
        chmod(empty, 0o711)
        #expect(try Self.restore(agent, "main", to: empty).status == 0)
        #expect(FileManager.default.fileExists(atPath: empty + "/pfhost.json"))
        var info = stat()
        stat(empty, &info)
        #expect(info.st_mode & 0o777 == 0o711, "an empty TARGET keeps its mode")

        let forced = try Self.restore(agent, "main", to: occupied, ["--force"])
        #expect(forced.status == 0, "\(forced)")
        #expect(!FileManager.default.fileExists(atPath: occupied + "/mine.txt"))
        #expect(FileManager.default.fileExists(atPath: occupied + "/world/tree/README.md"))
        #expect(try Self.restore(agent, "main", to: file, ["--force"]).status == 0)
        #expect(FileManager.default.fileExists(atPath: file + "/pfhost.json"))
        #expect(Self.partials(in: agent.dir.path).isEmpty)

        let nested = agent.dir.file("new/parents/agent")
        #expect(try Self.restore(agent, "main", to: nested).status == 0)
        #expect(try Self.restore(agent, "nope", to: agent.dir.file("x")).status == 4)
    }

    @Test("a damaged blob fails the restore naming it; TARGET is not created and nothing is left beside it")
    func damagedBlob() throws {
        let agent = try Agent()
        let (_, manifest) = try agent.manifest(["--tag", "main"])
        let store = try SnapshotStore(opening: agent.store)
        let pack = try #require(manifest.world.content.tree.packs?.first?.digest)
        let path = store.blobPath(pack)
        try Self.flipByte(of: path, at: 3)
        let output = try Self.expectDamagedRestore(agent, blob: pack, path: path)
        #expect(output.stderr.contains("world"), "\(output)")
        // The other layers restore.
        #expect(try Self.restore(agent, "main", to: agent.dir.file("b"), ["--only", "model,cache,effects,trace"]).status == 0)
    }

    @Test("a large blob is copied while it is hashed: intact it restores byte for byte; damaged, the restore fails naming it before TARGET exists")
    func damagedLargeBlob() throws {
        let agent = try Agent()
        // Larger than what is hashed before a plugin gets it (16 MiB): the copy and the hash overlap.
        // A workspace file (the model plugin would cut it into chunks) is one blob.
        let weights = (0..<(17 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
        try Data(weights).write(to: URL(fileURLWithPath: agent.root + "/workspace/extra.bin"))
        let (_, manifest) = try agent.manifest(["--tag", "main"])
        let blob = try #require(manifest.world.blobs.first { $0.size == Int64(weights.count) })

        let intact = agent.dir.file("intact")
        let restored = try Self.restore(agent, "main", to: intact, ["--only", "world"])
        #expect(restored.status == 0, "\(restored)")
        #expect(FileManager.default.contents(atPath: intact + "/world/tree/extra.bin") == Data(weights))

        let path = try SnapshotStore(opening: agent.store).blobPath(blob.digest)
        try Self.flipByte(of: path, at: 9 << 20)
        try Self.expectDamagedRestore(agent, blob: blob.digest, path: path)
    }

    @Test("many small blobs are hashed side by side (PFHOST_SHA256_KERNEL forces each kernel): intact they restore byte for byte; one damaged fails the restore naming it",
          arguments: MultiBufferSHA256.Kernel.supported)
    func smallBlobsSideBySide(kernel: MultiBufferSHA256.Kernel) throws {
        let agent = try Agent()
        // More blobs than lanes, of sizes that end anywhere in a block, up to 2 MiB.
        let parts = (0..<40).map { index in
            (name: "part-\(index).bin", bytes: (0..<(index * 52_361 % (2 << 20))).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) })
        }
        for part in parts {
            try Data(part.bytes).write(to: URL(fileURLWithPath: agent.root + "/model/" + part.name))
        }
        let (_, manifest) = try agent.manifest(["--tag", "main"])
        let environment = ["PFHOST_SHA256_KERNEL": kernel.rawValue]

        let intact = agent.dir.file("intact")
        let restored = try Self.restore(agent, "main", to: intact, environment: environment)
        #expect(restored.status == 0, "\(restored)")
        for part in parts {
            #expect(FileManager.default.contents(atPath: intact + "/model/" + part.name) == Data(part.bytes), "\(part.name)")
        }

        let damaged = parts[23]
        let blob = try #require(manifest.model.blobs.first { $0.size == Int64(damaged.bytes.count) })
        let path = try SnapshotStore(opening: agent.store).blobPath(blob.digest)
        try Self.flipByte(of: path, at: UInt64(damaged.bytes.count - 1))
        try Self.expectDamagedRestore(agent, blob: blob.digest, path: path, environment: environment)
    }

    /// Flips one bit of the byte at `offset` of the (read-only) blob file at `path`.
    static func flipByte(of path: String, at offset: UInt64) throws {
        chmod(path, 0o644)
        defer { chmod(path, 0o444) }
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: offset)
        let byte = try #require(try handle.read(upToCount: 1)).first!
        try handle.seek(toOffset: offset)
        try handle.write(contentsOf: [byte ^ 0x20])
    }

    /// A whole restore of `main` fails with exit 3 naming the damaged `blob` at `path`, and leaves
    /// neither TARGET nor a temporary sibling.
    @discardableResult
    static func expectDamagedRestore(_ agent: Agent, blob: Digest, path: String,
                                     environment: [String: String] = [:]) throws -> ProcessOutput {
        let target = agent.dir.file("b")
        let output = try restore(agent, "main", to: target, environment: environment)
        #expect(output.status == 3, "\(output)")
        #expect(output.stderr.contains("\(path) is corrupt: its content does not match its digest \(blob)"), "\(output)")
        #expect(!FileManager.default.fileExists(atPath: target))
        #expect(partials(in: agent.dir.path).isEmpty)
        return output
    }

    // MARK: The hosted agent

    @Test("the hosted agent: model and cache recorded as hosted (no blobs, schema-valid), restored and snapshotted again")
    func hostedAgent() throws {
        let agent = try Agent()
        let hosted = agent.dir.file("hosted")
        try FileManager.default.copyItem(atPath: repositoryRoot + "/Examples/hosted-agent", toPath: hosted)
        let output = try run(productsDirectory + "/pfhost", ["snapshot", "--plugins", agent.plugins, "--store", agent.store,
                                                             "--config", hosted + "/pfhost.json", "--tag", "hosted"])
        #expect(output.status == 0, "\(output)")
        let id = try Digest(parsing: output.stdout.trimmingCharacters(in: .newlines))
        let store = try SnapshotStore(opening: agent.store)
        let manifest = try store.snapshot(id).manifest
        #expect(manifest.model.blobs.isEmpty && manifest.cache.blobs.isEmpty)
        #expect(manifest.model.content == ModelContent(name: "gpt-4.1", format: "hosted", files: [], adapters: [], provider: "openai",
                                                       revision: "2025-04-14", baseURL: "https://api.openai.com/v1"))
        #expect(manifest.cache.content.isHosted && manifest.cache.content.index == nil && manifest.cache.content.dtype == nil)
        #expect(manifest.trace.content.messageCount == 8 && manifest.effects.content.pendingCount == 1)
        let layers = try store.snapshot(id).layerJSON
        for kind in [LayerKind.model, .cache] {
            let file = agent.dir.file("\(kind).json")
            try Data(try #require(layers[kind])).write(to: URL(fileURLWithPath: file))
            let validation = try run("/usr/bin/env", ["python3", repositoryRoot + "/plugin-sdk/schema/validate.py", "layer-\(kind).schema.json", file])
            #expect(validation.status == 0, "\(validation)")
        }

        let target = agent.dir.file("restored")
        let restored = try Self.restore(agent, "hosted", to: target)
        #expect(restored.status == 0, "\(restored)")
        #expect(restored.stderr.contains("pfhost: model: hosted: openai serves gpt-4.1 (2025-04-14)"), "\(restored)")
        #expect(restored.stderr.contains("pfhost: cache: hosted: the KV cache lives with the model's provider"), "\(restored)")
        #expect(restored.stderr.contains("pfhost: effects: pending_effects: fx-2"), "\(restored)")
        let again = try run(productsDirectory + "/pfhost", ["snapshot", "--plugins", agent.plugins, "--store", agent.store,
                                                            "--config", target + "/pfhost.json", "--parent", "hosted"])
        #expect(again.status == 0, "\(again)")
        let second = try store.snapshot(try Digest(parsing: again.stdout.trimmingCharacters(in: .newlines))).manifest
        #expect(second.model.content == manifest.model.content && second.cache.content == manifest.cache.content)
        #expect(Self.blobs(second) == Self.blobs(manifest))
    }

    @Test("model and cache: path and the hosted form together are refused")
    func hostedConflicts() throws {
        let agent = try Agent()
        let model = try agent.failure(of: .model, ["--set", "model.provider=openai", "--set", "model.name=gpt-4.1"])
        #expect(model.contains("model.path and model.provider are both set"), "\(model)")
        let cache = try agent.failure(of: .cache, ["--set", "cache.hosted=true"])
        #expect(cache.contains("cache.path and cache.hosted=true are both set"), "\(cache)")
    }

    // MARK: The C example

    @Test("the C example plugin restores its conversation, and a snapshot of it gives the same blob")
    func cExample() throws {
        let agent = try Agent()
        let build = agent.dir.directory("c-plugin")
        for file in ["trace_lines.c", "Makefile"] {
            try FileManager.default.copyItem(atPath: repositoryRoot + "/plugin-sdk/examples/c/" + file, toPath: build + "/" + file)
        }
        let make = try run("/usr/bin/make", ["-C", build, "SDK_INCLUDE=\(repositoryRoot)/plugin-sdk/include", "CFLAGS=-O2 -Wall -Wextra -Werror"])
        #expect(make.status == 0, "\(make)")
        try FileManager.default.removeItem(atPath: agent.plugins + "/libpf-trace.so")
        try FileManager.default.copyItem(atPath: build + "/libexample-trace.so", toPath: agent.plugins + "/libexample-trace.so")
        let (_, manifest) = try agent.manifest(["--tag", "main"])
        let target = agent.dir.file("b")
        let output = try Self.restore(agent, "main", to: target, ["--only", "trace"])
        #expect(output.status == 0, "\(output)")
        #expect(FileManager.default.contents(atPath: target + "/trace/conversation.jsonl") == FileManager.default.contents(atPath: agent.root + "/trace/conversation.jsonl"))
        let again = try agent.manifest(["--set", "trace.path=\(target)/trace/conversation.jsonl"]).1
        #expect(again.trace.blobs.map(\.digest) == manifest.trace.blobs.map(\.digest))
    }
}
