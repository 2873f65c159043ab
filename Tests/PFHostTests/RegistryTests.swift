import Foundation
import Testing
import PFModel
import PFStore

/// `pfhost push` and `pfhost pull` against a real registry (Debian's docker-registry), through the
/// built binary.
@Suite("Registry push and pull")
struct RegistryTests {
    /// A copy of the example agent snapshotted with the reference plugins, and a registry.
    struct Setup {
        let agent: ReferencePluginTests.Agent
        let registry: TestRegistry
        var store: String { agent.store }

        init(user: (name: String, password: String)? = nil) throws {
            agent = try ReferencePluginTests.Agent()
            registry = try TestRegistry(user: user)
        }

        /// Snapshots the agent under `tag` (a chain: each one's parent is the previous).
        func snapshot(tag: String = "a") throws -> Digest {
            try agent.manifest(["--tag", tag]).0
        }

        /// Writes `count` files of `size` random bytes into the agent's workspace.
        func addFiles(_ count: Int, size: Int, prefix: String = "data") throws {
            for number in 0..<count {
                var bytes = [UInt8](repeating: 0, count: size)
                for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255) }
                try Data(bytes).write(to: URL(fileURLWithPath: agent.root + "/workspace/\(prefix)-\(number).bin"))
            }
        }

        func pfhost(_ arguments: [String], store: String? = nil, environment: [String: String] = [:], input: String? = nil) throws -> ProcessOutput {
            try runWithInput(productsDirectory + "/pfhost", arguments + ["--store", store ?? self.store], environment: environment, input: input)
        }

        /// The JSON a `--json` push or pull printed.
        func report(_ output: ProcessOutput) throws -> [String: Any] {
            guard output.status == 0, let json = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any] else {
                throw ReferencePluginTests.Failure(output: output)
            }
            return json
        }

        /// Every blob (not manifest) a snapshot's OCI graph reaches from its root, with its size:
        /// what a push sends, in any store format.
        func blobs(of id: Digest, in store: String? = nil) throws -> [Digest: Int64] {
            let root = (store ?? self.store) + "/blobs/sha256/"
            var blobs: [Digest: Int64] = [:]
            func visit(_ hex: String) throws {
                let data = try Data(contentsOf: URL(fileURLWithPath: root + hex))
                let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
                var children = (json["manifests"] as? [[String: Any]] ?? []) + (json["layers"] as? [[String: Any]] ?? [])
                if let config = json["config"] as? [String: Any] { children.append(config) }
                for child in children {
                    let digest = try Digest(parsing: child["digest"] as? String ?? "")
                    if (child["mediaType"] as? String ?? "").hasPrefix("application/vnd.oci.image.") {
                        try visit(digest.hex)
                    } else {
                        blobs[digest] = Int64(child["size"] as? Int ?? -1)
                    }
                }
            }
            try visit(id.hex)
            return blobs
        }

        /// An empty directory for a second store.
        func newStore(_ name: String = "pulled") -> String { agent.dir.file(name) }
    }

    static func blobCounts(_ report: [String: Any]) -> (transferred: Int, bytes: Int, skipped: Int) {
        let blobs = report["blobs"] as? [String: Any] ?? [:]
        return (blobs["transferred"] as? Int ?? -1, blobs["bytes"] as? Int ?? -1, blobs["skipped"] as? Int ?? -1)
    }

    // MARK: Round trips

    @Test("a chain of three snapshots pushed, then pulled into an empty store: log shows the chain, verify --all is clean")
    func chainRoundTrip() throws {
        let setup = try Setup()
        var ids: [Digest] = []
        for round in 0..<3 {
            try setup.agent.write("workspace/notes-\(round).md", "round \(round)\n")
            ids.append(try setup.snapshot())
        }
        let destination = "\(setup.registry.host)/agents/support:v3"
        let pushed = try setup.report(setup.pfhost(["push", "a", destination, "--plain-http", "--json"]))
        #expect(pushed["snapshots"] as? [String] == ids.map(\.description), "\(pushed)")
        #expect(pushed["reference"] as? String == destination + "@" + ids[2].description)
        #expect(pushed["schema"] as? String == "pfhost.push/1")

        let target = setup.newStore()
        let pulled = try setup.pfhost(["pull", destination, "--plain-http"], store: target)
        #expect(pulled.status == 0 && pulled.stdout == ids[2].description + "\n", "\(pulled)")
        let log = try setup.pfhost(["log", "v3"], store: target)
        let lines = log.stdout.split(separator: "\n")
        #expect(log.status == 0 && lines.count == 3 && !log.stdout.contains("not in this store"), "\(log)")
        #expect(lines.map { String($0.prefix(12)) } == ids.reversed().map { String($0.hex.prefix(12)) }, "\(log)")
        #expect(lines.first?.contains("(v3)") == true, "\(log)")
        let verify = try setup.pfhost(["verify", "--all"], store: target)
        #expect(verify.status == 0 && verify.stdout == "ok: 3 snapshots verified, and every blob\n", "\(verify)")

        // A second pull fetches nothing: every blob is there.
        let again = try setup.report(setup.pfhost(["pull", destination, "--plain-http", "--json"], store: target))
        #expect(again["schema"] as? String == "pfhost.pull/1")
        #expect(Self.blobCounts(again).transferred == 0, "\(again)")
    }

    @Test("--depth limits the history carried both ways")
    func depth() throws {
        let setup = try Setup()
        var ids: [Digest] = []
        for round in 0..<3 {
            try setup.agent.write("workspace/notes-\(round).md", "round \(round)\n")
            ids.append(try setup.snapshot())
        }
        let destination = "\(setup.registry.host)/agents/depth:v3"
        let pushed = try setup.report(setup.pfhost(["push", "a", destination, "--plain-http", "--json", "--depth", "1"]))
        #expect(pushed["snapshots"] as? [String] == ids.suffix(2).map(\.description), "\(pushed)")
        let target = setup.newStore()
        let pulled = try setup.report(setup.pfhost(["pull", destination, "--plain-http", "--json", "--depth", "0"], store: target))
        #expect(pulled["snapshots"] as? [String] == [ids[2].description], "\(pulled)")
        let log = try setup.pfhost(["log", "v3"], store: target)
        #expect(log.stdout.contains("not in this store"), "\(log)")
        #expect(try setup.pfhost(["verify", "--all"], store: target).status == 0)
    }

    @Test("an incremental push after a 2% change sends only the new blobs")
    func incrementalPush() throws {
        let setup = try Setup()
        try setup.addFiles(50, size: 100 << 10)
        let first = try setup.snapshot()
        let destination = "\(setup.registry.host)/agents/inc:latest"
        let cold = try setup.report(setup.pfhost(["push", "a", destination, "--plain-http", "--json"]))
        let coldBytes = Self.blobCounts(cold).bytes
        // One file of fifty changes: 2% of the workspace.
        try setup.addFiles(1, size: 100 << 10, prefix: "data-changed")
        try FileManager.default.removeItem(atPath: setup.agent.root + "/workspace/data-0.bin")
        let second = try setup.snapshot()
        let warm = try setup.report(setup.pfhost(["push", "a", destination, "--plain-http", "--json"]))
        let old = try setup.blobs(of: first), new = try setup.blobs(of: second)
        let added = new.filter { old[$0.key] == nil }
        let counts = Self.blobCounts(warm)
        #expect(counts.transferred == added.count, "sent \(counts.transferred) blobs, \(added.count) are new: \(warm)")
        #expect(Int64(counts.bytes) == added.values.reduce(0, +), "\(warm)")
        #expect(counts.bytes * 10 <= coldBytes, "incremental \(counts.bytes) bytes against \(coldBytes) cold")
        #expect(warm["snapshots"] as? [String] == [second.description], "\(warm)")
        #expect(warm["present"] as? [String] == [first.description], "\(warm)")
    }

    @Test("--mount-from: a second repository of the registry gets the blobs by cross-repository mount, none uploaded")
    func mount() throws {
        let setup = try Setup()
        let id = try setup.snapshot()
        let first = try setup.report(setup.pfhost(["push", "a", "\(setup.registry.host)/agents/one:v1", "--plain-http", "--json"]))
        let second = try setup.report(setup.pfhost(["push", "a", "\(setup.registry.host)/agents/two:v1", "--plain-http", "--json",
                                                    "--mount-from", "agents/one"]))
        let blobs = second["blobs"] as? [String: Any] ?? [:]
        #expect(blobs["transferred"] as? Int == 0 && blobs["mounted"] as? Int == Self.blobCounts(first).transferred, "\(second)")
        let pulled = try setup.pfhost(["pull", "\(setup.registry.host)/agents/two:v1", "--plain-http"], store: setup.newStore())
        #expect(pulled.stdout == id.description + "\n", "\(pulled)")
    }

    @Test("on a terminal, push and pull draw a progress line on stderr and erase it; with -q or elsewhere they do not")
    func progressLine() throws {
        let setup = try Setup()
        _ = try setup.snapshot()
        let destination = "\(setup.registry.host)/agents/progress:v1"
        let binary = productsDirectory + "/pfhost"
        // script(1) gives the command a terminal; what it drew comes back on script's stdout.
        let push = try run("/usr/bin/script", ["-qec", "\(binary) push a \(destination) --plain-http --store \(setup.store)", "/dev/null"])
        #expect(push.status == 0 && push.stdout.contains("pfhost: pushing ") && push.stdout.contains("(100%)") && push.stdout.contains("\r\u{1B}[K"), "\(push)")
        let pull = try run("/usr/bin/script", ["-qec", "\(binary) pull \(destination) --plain-http --store \(setup.newStore())", "/dev/null"])
        #expect(pull.status == 0 && pull.stdout.contains("pfhost: pulling ") && pull.stdout.contains("(100%)"), "\(pull)")
        let plain = try setup.pfhost(["push", "a", destination, "--plain-http"])
        #expect(plain.status == 0 && !plain.stderr.contains("pushing"), "\(plain)")
        let quiet = try run("/usr/bin/script", ["-qec", "\(binary) push a \(destination) --plain-http -q --store \(setup.store)", "/dev/null"])
        #expect(quiet.status == 0 && !quiet.stdout.contains("pfhost: pushing"), "\(quiet)")
    }

    // MARK: Broken connections

    @Test("an upload whose connection drops resumes where the registry says it stands", arguments: ["drop-after-patch", "cut-patch"])
    func resumedUpload(mode: String) throws {
        let setup = try Setup()
        try setup.addFiles(1, size: 3 << 20, prefix: "big")
        let id = try setup.snapshot()
        let proxy = try RegistryProxy(upstream: setup.registry, mode: mode)
        let pushed = try setup.report(setup.pfhost(["push", "a", "\(proxy.host)/agents/resume:v1", "--plain-http", "--json",
                                                     "--chunk-size", "1", "--parallel", "1"]))
        #expect(pushed["resumed"] as? Int ?? 0 >= 1, "\(pushed)")
        let blobs = try setup.blobs(of: id)
        let total = Int(blobs.values.reduce(0, +))
        let sent = Self.blobCounts(pushed).bytes
        // One chunk (1 MiB) went twice: the one in flight. After a cut connection the registry says
        // where the upload stands and the push goes on from there (a restart would send the first
        // chunk again too); distribution 2.8 forgets an upload whose answer was lost (its state token
        // moved on), so that case starts the blob over, which here is the same one chunk.
        #expect(sent == total + (1 << 20), "sent \(sent) bytes of \(total): \(pushed)")
        let target = setup.newStore()
        let pulled = try setup.pfhost(["pull", "\(setup.registry.host)/agents/resume:v1", "--plain-http"], store: target)
        #expect(pulled.status == 0 && pulled.stdout == id.description + "\n", "\(pulled)")
        #expect(try setup.pfhost(["verify", "--all"], store: target).status == 0)
    }

    @Test("a registry answering 503 a few times is retried with backoff; one that never stops fails (exit 76)")
    func busyRegistry() throws {
        let setup = try Setup()
        let id = try setup.snapshot()
        let proxy = try RegistryProxy(upstream: setup.registry, mode: "busy:2")
        let push = try setup.pfhost(["push", "a", "\(proxy.host)/agents/busy:v1", "--plain-http", "--parallel", "1"])
        #expect(push.status == 0, "\(push)")
        let always = try RegistryProxy(upstream: setup.registry, mode: "busy:1000")
        let pull = try setup.pfhost(["pull", "\(always.host)/agents/busy:v1", "--plain-http"], store: setup.newStore())
        #expect(pull.status == 76 && pull.stderr.contains("HTTP 503") && pull.stderr.contains("after 4 attempts"), "\(pull)")
        let good = try setup.pfhost(["pull", "\(setup.registry.host)/agents/busy:v1", "--plain-http"], store: setup.newStore())
        #expect(good.stdout == id.description + "\n", "\(good)")
    }

    @Test("a pull killed (SIGKILL) in the middle of a blob leaves a valid store; the next pull completes it")
    func killedPull() throws {
        let setup = try Setup()
        try setup.addFiles(1, size: 4 << 20, prefix: "big")
        let id = try setup.snapshot()
        #expect(try setup.pfhost(["push", "a", "\(setup.registry.host)/agents/killed:v1", "--plain-http"]).status == 0)
        let proxy = try RegistryProxy(upstream: setup.registry, mode: "stall-blobs")
        let target = setup.newStore()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: productsDirectory + "/pfhost")
        process.arguments = ["pull", "\(proxy.host)/agents/killed:v1", "--plain-http", "--store", target]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait for the condition, not for a time: a blob half written in the store's ingest/.
        let deadline = Date().addingTimeInterval(60)
        func halfWritten() -> Bool {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: target + "/ingest")) ?? []
            return names.contains { name in
                name.hasPrefix("blob-") && ((try? FileManager.default.attributesOfItem(atPath: target + "/ingest/" + name)[.size] as? Int) ?? 0) >= 1 << 20
            }
        }
        while !halfWritten() && Date() < deadline && process.isRunning { usleep(10_000) }
        #expect(halfWritten(), "the pull never got half a blob")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let verify = try setup.pfhost(["verify"], store: target)
        #expect(verify.status == 0 && verify.stdout == "ok: 0 snapshots verified\n", "\(verify)")
        // verify --all reports the killed pull's temporary files (exit 1, as docs/cli.md says) and who removes them.
        let leftovers = try setup.pfhost(["verify", "--all"], store: target)
        #expect(leftovers.status == 1 && leftovers.stdout.contains("left by writers that are gone (the store is valid; the next pull or snapshot removes them)"), "\(leftovers)")
        let again = try setup.pfhost(["pull", "\(setup.registry.host)/agents/killed:v1", "--plain-http"], store: target)
        #expect(again.status == 0 && again.stdout == id.description + "\n", "\(again)")
        let all = try setup.pfhost(["verify", "--all"], store: target)
        #expect(all.status == 0, "the next pull removed what the killed one left: \(all)")
    }

    // MARK: Failures

    @Test("a registry trickling a manifest at 1 byte/s, or sending nothing, fails after one bounded wait (exit 69), not retried", arguments: ["trickle-manifests", "silent-manifests"])
    func slowRegistry(mode: String) throws {
        let setup = try Setup()
        _ = try setup.snapshot()
        #expect(try setup.pfhost(["push", "a", "\(setup.registry.host)/agents/slow:v1", "--plain-http"]).status == 0)
        let proxy = try RegistryProxy(upstream: setup.registry, mode: mode)
        let target = setup.newStore()
        let start = ContinuousClock.now
        let pull = try setup.pfhost(["pull", "\(proxy.host)/agents/slow:v1", "--plain-http"], store: target)
        let elapsed = ContinuousClock.now - start
        #expect(pull.status == 69 && pull.stderr.contains("too slow while reading manifest v1"), "\(pull)")
        // The limit is 30 s under 1 KiB/s; four tries would be two minutes.
        #expect(elapsed < .seconds(55), "\(elapsed)")
    }

    @Test("a manifest over 4 MiB, redirect loops and file:// redirects are exit 76; a token over 1 MiB exit 77", arguments: [
        ("huge-manifest", 76, "its answer is a document larger than 4 MiB"),
        ("redirect-loop", 76, "it redirected too many times or to a URL that is not http or https"),
        ("redirect-file", 76, "it redirected too many times or to a URL that is not http or https"),
        ("huge-token:bob:pw", 77, "answered with more than 1 MiB"),
    ])
    func hostileAnswers(mode: String, status: Int32, message: String) throws {
        let setup = try Setup()
        _ = try setup.snapshot()
        #expect(try setup.pfhost(["push", "a", "\(setup.registry.host)/agents/hostile:v1", "--plain-http"]).status == 0)
        let proxy = try RegistryProxy(upstream: setup.registry, mode: mode)
        let pull = try setup.pfhost(["pull", "\(proxy.host)/agents/hostile:v1", "--plain-http"], store: setup.newStore(),
                                    environment: ["PFHOST_REGISTRY_USERNAME": "bob", "PFHOST_REGISTRY_PASSWORD": "pw"])
        #expect(pull.status == status && pull.stderr.hasPrefix("pfhost: error: ") && pull.stderr.contains(message), "\(pull)")
    }

    @Test("option and credential mistakes are one-line 'pfhost: error:' messages with their documented status, before any request", arguments: [
        (["pull", "127.0.0.1:1/a:v1", "--tag", "../../evil"], [String: String](), 64, "invalid tag '../../evil' for the store"),
        (["pull", "127.0.0.1:1/a:v1", "--tag", "a\u{1B}[31m"], [:], 64, "invalid tag 'a\\e[31m' for the store"),
        (["pull", "127.0.0.1:1/a:\u{1B}[31m"], [:], 64, "tag '\\e[31m' is not"),
        (["pull", "127.0.0.1:1/a:v1", "--username", "u"], [:], 64, "--username needs --password-stdin"),
        (["push", "a", "127.0.0.1:1/a:v1", "--parallel", "0"], [:], 64, "--parallel must be from 1 to 32"),
        (["push", "a", "127.0.0.1:1/a:v1", "--chunk-size", "0"], [:], 64, "--chunk-size must be from 1 to 4096"),
        (["pull", "127.0.0.1:1/a:v1"], ["PFHOST_REGISTRY_PASSWORD": "pw"], 78, "PFHOST_REGISTRY_PASSWORD is set but PFHOST_REGISTRY_USERNAME is not"),
    ])
    func usageErrors(arguments: [String], environment: [String: String], status: Int32, message: String) throws {
        let dir = TemporaryDirectory()
        let output = try runWithInput(productsDirectory + "/pfhost", arguments + ["--plain-http", "--store", dir.file("store")], environment: environment)
        #expect(output.status == status && output.stderr.hasPrefix("pfhost: error: ") && output.stderr.contains(message)
                && output.stderr.split(separator: "\n").count == 1, "\(output)")
    }

    @Test("an unreachable registry, or HTTPS to a plain-HTTP one, is a one-line error (exit 69) and the store is untouched")
    func unreachable() throws {
        let setup = try Setup()
        _ = try setup.snapshot()
        let port = try TestRegistry.freePort()
        let push = try setup.pfhost(["push", "a", "127.0.0.1:\(port)/agents/x:v1", "--plain-http"])
        #expect(push.status == 69, "\(push)")
        #expect(push.stderr.hasPrefix("pfhost: error: cannot reach the registry 127.0.0.1:\(port): ") && push.stderr.split(separator: "\n").count == 1, "\(push)")
        let target = setup.newStore()
        let pull = try setup.pfhost(["pull", "127.0.0.1:\(port)/agents/x:v1", "--plain-http"], store: target)
        #expect(pull.status == 69, "\(pull)")
        // HTTPS is the default: a plain-HTTP registry without --plain-http is a TLS failure, said so.
        let https = try setup.pfhost(["push", "a", "\(setup.registry.host)/agents/x:v1"])
        #expect(https.status == 69 && https.stderr.contains("TLS failed") && https.stderr.contains("--plain-http"), "\(https)")
        #expect(try setup.pfhost(["verify", "--all"]).status == 0)
    }

    @Test("a registry serving a wrong blob fails the pull (exit 76), nothing is committed and the store verifies")
    func wrongBlob() throws {
        let setup = try Setup()
        let id = try setup.snapshot()
        let push = try setup.pfhost(["push", "a", "\(setup.registry.host)/agents/bad:v1", "--plain-http"])
        #expect(push.status == 0, "\(push)")
        let proxy = try RegistryProxy(upstream: setup.registry, mode: "corrupt-blobs")
        let target = setup.newStore()
        let pull = try setup.pfhost(["pull", "\(proxy.host)/agents/bad:v1", "--plain-http", "--parallel", "1"], store: target)
        #expect(pull.status == 76, "\(pull)")
        #expect(pull.stderr.hasPrefix("pfhost: error: the registry \(proxy.host) answered wrongly while downloading blob sha256:"), "\(pull)")
        #expect(pull.stderr.contains("no snapshot was added to the store"), "\(pull)")
        let verify = try setup.pfhost(["verify", "--all"], store: target)
        #expect(verify.status == 0 && verify.stdout == "ok: 0 snapshots verified, and every blob\n", "\(verify)")
        // The same store pulls cleanly from the registry itself afterwards.
        let good = try setup.pfhost(["pull", "\(setup.registry.host)/agents/bad:v1", "--plain-http"], store: target)
        #expect(good.status == 0 && good.stdout == id.description + "\n", "\(good)")
    }

    @Test("a manifest not matching the digest asked for, or claiming a blob of 2^62 bytes or one byte short, fails the pull (exit 76); the store verifies")
    func hostileManifests() throws {
        let setup = try Setup()
        let id = try setup.snapshot()
        #expect(try setup.pfhost(["push", "a", "\(setup.registry.host)/agents/lies:v1", "--plain-http"]).status == 0)
        let liar = try RegistryProxy(upstream: setup.registry, mode: "lie-manifest")
        let target = setup.newStore()
        let byDigest = try setup.pfhost(["pull", "\(liar.host)/agents/lies@\(id)", "--plain-http"], store: target)
        #expect(byDigest.status == 76 && byDigest.stderr.contains("reading manifest \(id): its bytes hash to sha256:"), "\(byDigest)")
        let huge = try RegistryProxy(upstream: setup.registry, mode: "huge-size")
        let big = try setup.pfhost(["pull", "\(huge.host)/agents/lies:v1", "--plain-http"], store: target)
        // A format-2 snapshot's layer manifests are fetched by digest, so the lie is caught there.
        #expect(big.status == 76 && big.stderr.contains("answered wrongly") && big.stderr.contains("no snapshot was added to the store"), "\(big)")
        let short = try RegistryProxy(upstream: setup.registry, mode: "short-size")
        let more = try setup.pfhost(["pull", "\(short.host)/agents/lies:v1", "--plain-http"], store: target)
        #expect(more.status == 76 && more.stderr.contains("answered wrongly") && more.stderr.contains("no snapshot was added to the store"), "\(more)")
        let verify = try setup.pfhost(["verify", "--all"], store: target)
        #expect(verify.status == 0 && verify.stdout == "ok: 0 snapshots verified, and every blob\n", "\(verify)")
    }

    @Test("a manifest that is not a pfhost snapshot is refused before any blob is fetched (exit 76)")
    func notASnapshot() throws {
        let setup = try Setup()
        // An OCI manifest whose config is not pfhost's, put straight into the registry.
        let manifest = #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#
        let start = try run("/usr/bin/curl", ["-sf", "-o", "/dev/null", "-D", "-", "-X", "POST", "http://\(setup.registry.host)/v2/other/img/blobs/uploads/"])
        let location = start.stdout.split(separator: "\r\n").first { $0.lowercased().hasPrefix("location:") }
            .map { String($0.dropFirst("location:".count)).trimmingCharacters(in: .whitespaces) } ?? ""
        #expect(start.status == 0 && !location.isEmpty, "\(start)")
        let empty = try run("/usr/bin/curl", ["-sf", "-X", "PUT", location + "&digest=sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
                                              "-H", "Content-Type: application/octet-stream", "--data-binary", "{}"])
        #expect(empty.status == 0, "\(empty)")
        let put = try run("/usr/bin/curl", ["-sf", "-X", "PUT", "http://\(setup.registry.host)/v2/other/img/manifests/v1",
                                            "-H", "Content-Type: application/vnd.oci.image.manifest.v1+json", "--data-binary", manifest])
        #expect(put.status == 0, "\(put)")
        let pull = try setup.pfhost(["pull", "\(setup.registry.host)/other/img:v1", "--plain-http"], store: setup.newStore())
        #expect(pull.status == 76 && pull.stderr.contains("is not a pfhost snapshot"), "\(pull)")
    }

    @Test("a snapshot listing more than 1,024 parents is refused before any parent is asked for (exit 76); 1,024 are walked")
    func tooManyParents() throws {
        let setup = try Setup()
        _ = try setup.snapshot()
        let host = setup.registry.host
        #expect(try setup.pfhost(["push", "a", "\(host)/agents/many:v1", "--plain-http"]).status == 0)
        let get = try run("/usr/bin/curl", ["-sf", "-H", "Accept: application/vnd.oci.image.index.v1+json", "http://\(host)/v2/agents/many/manifests/v1"])
        var index = try #require(try JSONSerialization.jsonObject(with: Data(get.stdout.utf8)) as? [String: Any], "\(get)")
        // Made-up parents (no registry holds them): the limit is checked before the first is fetched.
        for (tag, count) in [("over", 1025), ("at", 1024)] {
            var annotations = index["annotations"] as? [String: String] ?? [:]
            annotations[AnnotationKey.parents] = (0..<count).map { "sha256:" + String(repeating: "0", count: 56) + String(format: "%08x", $0) }.joined(separator: ",")
            index["annotations"] = annotations
            let body = try JSONSerialization.data(withJSONObject: index, options: [.sortedKeys])
            let put = try run("/usr/bin/curl", ["-sf", "-X", "PUT", "http://\(host)/v2/agents/many/manifests/\(tag)",
                                                "-H", "Content-Type: application/vnd.oci.image.index.v1+json", "--data-binary", String(decoding: body, as: UTF8.self)])
            #expect(put.status == 0, "\(put)")
        }
        let target = setup.newStore()
        let over = try setup.pfhost(["pull", "\(host)/agents/many:over", "--plain-http"], store: target)
        #expect(over.status == 76 && over.stderr.contains("it lists 1025 parents, more than the 1024 pfhost accepts"), "\(over)")
        let list = try setup.pfhost(["list", "--json"], store: target)
        #expect(!list.stdout.contains("sha256:"), "nothing was added: \(list)")
        // At the limit the walk goes on: parents the registry lacks leave the history shallow there.
        let at = try setup.pfhost(["pull", "\(host)/agents/many:at", "--plain-http"], store: target)
        #expect(at.status == 0 && at.stderr.contains("1024 ancestors not in the source (history stops there)"), "\(at)")
    }

    @Test("bad references are usage errors (exit 64) naming the reference", arguments: [
        "no-repository", "host:5000/UPPER/case:v1", "host:5000/a:bad tag", "host:99999/a:v1", "host:5000/a@sha256:12",
    ])
    func badReference(reference: String) throws {
        let setup = try Setup()
        let pull = try setup.pfhost(["pull", reference, "--plain-http"], store: setup.newStore())
        #expect(pull.status == 64 && pull.stderr.hasPrefix("pfhost: error: invalid registry reference '\(reference)': "), "\(pull)")
    }

    // MARK: Authentication

    @Test("Basic auth: wrong credentials are refused (exit 77); right ones from --password-stdin, the environment or ~/.docker/config.json work")
    func basicAuth() throws {
        let setup = try Setup(user: ("alice", "s3cret"))
        let id = try setup.snapshot()
        let destination = "\(setup.registry.host)/agents/auth:v1"
        let none = try setup.pfhost(["push", "a", destination, "--plain-http"], environment: ["HOME": setup.agent.dir.path])
        #expect(none.status == 77 && none.stderr.contains("none were given"), "\(none)")
        let wrong = try setup.pfhost(["push", "a", destination, "--plain-http", "--username", "alice", "--password-stdin"], input: "wrong\n")
        #expect(wrong.status == 77, "\(wrong)")
        #expect(wrong.stderr.hasPrefix("pfhost: error: authentication to \(setup.registry.host) failed: the credentials of 'alice' (from --username/--password-stdin) were refused"), "\(wrong)")
        #expect(!wrong.stderr.contains("wrong"), "the password never shows: \(wrong)")
        #expect(try setup.pfhost(["verify", "--all"]).status == 0)

        let right = try setup.pfhost(["push", "a", destination, "--plain-http", "--username", "alice", "--password-stdin"], input: "s3cret\n")
        #expect(right.status == 0, "\(right)")
        let environment = try setup.pfhost(["pull", destination, "--plain-http"], store: setup.newStore("env"),
                                           environment: ["PFHOST_REGISTRY_USERNAME": "alice", "PFHOST_REGISTRY_PASSWORD": "s3cret"])
        #expect(environment.status == 0 && environment.stdout == id.description + "\n", "\(environment)")
        let docker = setup.agent.dir.directory("docker")
        let auth = Data("alice:s3cret".utf8).base64EncodedString()
        try Data(#"{"auths":{"\#(setup.registry.host)":{"auth":"\#(auth)"}}}"#.utf8).write(to: URL(fileURLWithPath: docker + "/config.json"))
        let file = try setup.pfhost(["pull", destination, "--plain-http"], store: setup.newStore("file"), environment: ["DOCKER_CONFIG": docker])
        #expect(file.status == 0 && file.stdout == id.description + "\n", "\(file)")
    }

    @Test("the Bearer token flow: a token fetched with the credentials is used for every request")
    func bearerAuth() throws {
        let setup = try Setup()
        let id = try setup.snapshot()
        let proxy = try RegistryProxy(upstream: setup.registry, mode: "bearer:bob:pw")
        let destination = "\(proxy.host)/agents/token:v1"
        let wrong = try setup.pfhost(["push", "a", destination, "--plain-http"],
                                     environment: ["PFHOST_REGISTRY_USERNAME": "bob", "PFHOST_REGISTRY_PASSWORD": "nope"])
        #expect(wrong.status == 77 && wrong.stderr.contains("token service"), "\(wrong)")
        let credentials = ["PFHOST_REGISTRY_USERNAME": "bob", "PFHOST_REGISTRY_PASSWORD": "pw"]
        let push = try setup.pfhost(["push", "a", destination, "--plain-http"], environment: credentials)
        #expect(push.status == 0, "\(push)")
        let pull = try setup.pfhost(["pull", destination, "--plain-http"], store: setup.newStore(), environment: credentials)
        #expect(pull.status == 0 && pull.stdout == id.description + "\n", "\(pull)")
    }

    @Test("an upload Location on another origin (127.0.0.2) is followed without the user's credentials; the push and pull still work")
    func noCredentialsElsewhere() throws {
        let setup = try Setup()
        try setup.addFiles(1, size: 3 << 20)
        let id = try setup.snapshot()
        let proxy = try RegistryProxy(upstream: setup.registry, mode: "elsewhere:bob:pw")
        let destination = "\(proxy.host)/agents/elsewhere:v1"
        let credentials = ["PFHOST_REGISTRY_USERNAME": "bob", "PFHOST_REGISTRY_PASSWORD": "pw"]
        // The second listener answers 400 DENIED to any Authorization header: a leak fails the push.
        let push = try setup.pfhost(["push", "a", destination, "--plain-http", "--chunk-size", "1"], environment: credentials)
        #expect(push.status == 0, "\(push)")
        let pull = try setup.pfhost(["pull", destination, "--plain-http"], store: setup.newStore(), environment: credentials)
        #expect(pull.status == 0 && pull.stdout == id.description + "\n", "\(pull)")
    }

    @Test("HTTPS by default: a registry whose CA is trusted through SSL_CERT_FILE works without --plain-http; untrusted, it is a TLS error (exit 69)")
    func https() throws {
        let agent = try ReferencePluginTests.Agent()
        let registry = try TestRegistry(tls: true)
        let id = try agent.manifest(["--tag", "a"]).0
        let destination = "\(registry.host)/agents/tls:v1"
        let untrusted = try runWithInput(productsDirectory + "/pfhost", ["push", "a", destination, "--store", agent.store])
        #expect(untrusted.status == 69 && untrusted.stderr.contains("TLS failed"), "\(untrusted)")
        let trust = ["SSL_CERT_FILE": registry.caFile]
        let push = try runWithInput(productsDirectory + "/pfhost", ["push", "a", destination, "--store", agent.store], environment: trust)
        #expect(push.status == 0, "\(push)")
        let pull = try runWithInput(productsDirectory + "/pfhost", ["pull", destination, "--store", agent.dir.file("pulled")], environment: trust)
        #expect(pull.status == 0 && pull.stdout == id.description + "\n", "\(pull)")
    }

    // MARK: Interoperability

    @Test("skopeo copies what pfhost pushed into a layout pfhost verifies; pfhost pulls what skopeo pushed from a pfhost store")
    func skopeoInterop() throws {
        let skopeo = ["/usr/bin/skopeo", "/usr/local/bin/skopeo"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let skopeo else {
            Issue.record("skopeo is not installed: run scripts/install-deps (as root) before swift test")
            return
        }
        let setup = try Setup()
        _ = try setup.snapshot()
        let id = try setup.snapshot()
        let pushed = try setup.pfhost(["push", "a", "\(setup.registry.host)/agents/interop:v1", "--plain-http"])
        #expect(pushed.status == 0, "\(pushed)")
        let layout = setup.newStore("skopeo-layout")
        // --all: a snapshot whose root is an image index (store format 2) is copied whole, not one
        // manifest of it picked by platform; for an image manifest it changes nothing.
        let copy = try run(skopeo, ["--insecure-policy", "copy", "--all", "--src-tls-verify=false", "--preserve-digests",
                                    "docker://\(setup.registry.host)/agents/interop:v1", "oci:\(layout):v1"])
        #expect(copy.status == 0, "\(copy)")
        let verify = try setup.pfhost(["verify", "--all"], store: layout)
        #expect(verify.status == 0, "\(verify)")
        let show = try setup.pfhost(["show", "v1"], store: layout)
        #expect(show.stdout.hasPrefix("snapshot \(id)\n"), "\(show)")

        let upload = try run(skopeo, ["--insecure-policy", "copy", "--all", "--dest-tls-verify=false", "--preserve-digests",
                                      "oci:\(setup.store):a", "docker://\(setup.registry.host)/agents/from-skopeo:v1"])
        #expect(upload.status == 0, "\(upload)")
        let target = setup.newStore()
        let pulled = try setup.pfhost(["pull", "\(setup.registry.host)/agents/from-skopeo:v1", "--plain-http", "--json"], store: target)
        let report = try setup.report(pulled)
        #expect(report["id"] as? String == id.description, "\(report)")
        // skopeo carried one tag, not the history: the parent is missing there, and the pull says so.
        #expect((report["missing_ancestors"] as? [String])?.count == 1, "\(report)")
        #expect(try setup.pfhost(["verify", "--all"], store: target).status == 0)
    }

    @Test("pfhost --version and snapshot never load libcurl; push does")
    func libcurlLoadedOnlyForTransfers() throws {
        let setup = try Setup()
        let version = try runWithInput(productsDirectory + "/pfhost", ["--version"], environment: ["LD_DEBUG": "libs"])
        #expect(version.status == 0 && !version.stderr.contains("libcurl"), "\(version)")
        let snapshot = try setup.agent.snapshot(["--tag", "a"], environment: ["LD_DEBUG": "libs"])
        #expect(snapshot.status == 0 && !snapshot.stderr.contains("libcurl"), "\(snapshot.status)")
        let push = try setup.pfhost(["push", "a", "\(setup.registry.host)/agents/x:v1", "--plain-http"], environment: ["LD_DEBUG": "libs"])
        #expect(push.status == 0 && push.stderr.contains("libcurl.so.4"), "\(push.status)")
    }
}

/// Runs a program with `input` on its stdin (nothing when nil).
func runWithInput(_ executable: String, _ arguments: [String], environment: [String: String] = [:], input: String? = nil) throws -> ProcessOutput {
    guard let input else { return try run(executable, arguments, environment: environment) }
    // Through a pipe, as `echo pw | pfhost push … --password-stdin` gives it (not a seekable file).
    let shell = ["-c", "printf %s \"$PFHOST_TEST_STDIN\" | \"$0\" \"$@\"", executable] + arguments
    var env = environment
    env["PFHOST_TEST_STDIN"] = input
    return try run("/bin/sh", shell, environment: env)
}
