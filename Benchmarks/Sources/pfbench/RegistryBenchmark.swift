import Foundation

/// `pfbench registry`: `pfhost push` and `pfhost pull` beside `skopeo copy` of the same snapshot
/// to and from the same local registry (Debian's docker-registry on 127.0.0.1, filesystem storage),
/// in one run.
///
/// Scenarios: **cold push** (an empty registry each run), **cold pull** (an empty store or layout
/// each run), and **incremental push**: before each run Benchmarks/mutate.py changes about 2% of
/// the agent and pfhost snapshots it (untimed); the registry holds the previous snapshot. Registry
/// growth is what each tool sent.
struct RegistryBenchmark {
    let repo: String
    let work: String
    let scale: String
    let runs: Int
    let pfhost: String
    let plugins: String

    typealias Row = SnapshotBenchmark.Row

    func run() throws -> [Row] {
        let fixture = BenchmarkSupport.fixture(repo: repo, work: work, scale: scale)
        let agent = work + "/registry-agent"
        remove(agent)
        check(Measurement.run(["/bin/cp", "-a", fixture, agent]), "copying the fixture")
        let store = work + "/registry-store"
        remove(store)
        let snapshot = [pfhost, "snapshot", "--plugins", plugins, "--store", store, "--config", agent + "/pfhost.json", "--tag", "agent"]
        check(Measurement.run(snapshot), "snapshotting the agent")

        // One registry per tool, so that what lands in each is what that tool sent (a registry
        // stores a blob once whichever repository it is pushed to).
        let data = work + "/registry-data", skopeoData = work + "/registry-data-skopeo"
        remove(data)
        remove(skopeoData)
        let registry = try LocalRegistry(work: work, data: data, name: "pfhost")
        let skopeoRegistry = try LocalRegistry(work: work, data: skopeoData, name: "skopeo")
        defer {
            registry.stop()
            skopeoRegistry.stop()
        }
        let skopeo = ["/usr/bin/skopeo", "--insecure-policy"]
        let push = [pfhost, "push", "agent", "\(registry.host)/bench/agent:v1", "--plain-http", "--store", store]
        let skopeoPush = skopeo + ["copy", "--dest-tls-verify=false", "--preserve-digests", "oci:\(store):agent", "docker://\(skopeoRegistry.host)/bench/agent:v1"]
        var rows: [Row] = []

        rows.append(Row(scenario: "cold push", tool: "pfhost push", summary: measure { _ in
            remove(data)
            return Measurement.run(push)
        }, growth: size(of: data)))
        rows.append(Row(scenario: "cold push", tool: "skopeo copy", summary: measure { _ in
            remove(skopeoData)
            return Measurement.run(skopeoPush)
        }, growth: size(of: skopeoData)))

        let pulled = work + "/registry-pulled"
        rows.append(Row(scenario: "cold pull", tool: "pfhost pull", summary: measure { _ in
            remove(pulled)
            return Measurement.run([pfhost, "pull", "\(registry.host)/bench/agent:v1", "--plain-http", "--store", pulled])
        }, growth: size(of: pulled)))
        rows.append(Row(scenario: "cold pull", tool: "skopeo copy", summary: measure { _ in
            remove(pulled)
            return Measurement.run(skopeo + ["copy", "--src-tls-verify=false", "--preserve-digests", "docker://\(skopeoRegistry.host)/bench/agent:v1", "oci:\(pulled):v1"])
        }, growth: size(of: pulled)))
        remove(pulled)

        // Incremental: the same 2% change and snapshot before each run; each tool sends it to a
        // registry holding the previous snapshot.
        var incremental: [String: [Measurement]] = [:]
        var grown: [String: Int64] = [:]
        for step in 1...runs {
            check(Measurement.run(["/usr/bin/env", "python3", repo + "/Benchmarks/mutate.py", agent, "\(step)"]), "mutating the agent")
            check(Measurement.run(snapshot), "snapshotting the agent")
            for (tool, command, location) in [("pfhost push", push, data), ("skopeo copy", skopeoPush, skopeoData)] {
                let before = size(of: location)
                let m = Measurement.run(command)
                check(m, tool)
                incremental[tool, default: []].append(m)
                grown[tool, default: 0] += size(of: location) - before
            }
        }
        for tool in ["pfhost push", "skopeo copy"] {
            rows.append(Row(scenario: "2% push", tool: tool, summary: Summary(incremental[tool]!), growth: grown[tool]! / Int64(runs)))
        }
        remove(agent)
        remove(store)
        return rows
    }

    private func measure(_ body: (Int) -> Measurement) -> Summary { BenchmarkSupport.measure(runs: runs, body) }
    private func check(_ m: Measurement, _ what: String) { BenchmarkSupport.check(m, what) }
    private func remove(_ path: String) { try? FileManager.default.removeItem(atPath: path) }
    private func size(of root: String) -> Int64 { BenchmarkSupport.size(of: root) }

    /// Prints the table and pfhost's ratio to skopeo in each scenario.
    static func report(_ rows: [Row], scale: String, runs: Int, json: Bool) {
        if json {
            let items = rows.map(\.json)
            print("{\"scale\":\"\(scale)\",\"runs\":\(runs),\"rows\":[\(items.joined(separator: ","))]}")
            return
        }
        print("Push and pull of the \(scale) agent's snapshot to a local docker-registry, \(runs) runs each, median (min–max)\n")
        print(PFBench.pad("scenario", 13) + PFBench.pad("tool", 14) + PFBench.pad("time", 32) + PFBench.pad("pfhost ÷ this", 15) + PFBench.pad("peak RSS", 10) + "bytes that landed")
        for row in rows {
            let mine = rows.first { $0.scenario == row.scenario && $0.tool.hasPrefix("pfhost") }?.summary.median
            let ratio = row.tool.hasPrefix("pfhost") || mine == nil ? "-" : String(format: "%.2fx", mine! / row.summary.median)
            let growth = row.growth.map { $0 >= 1 << 20 ? String(format: "%.1f MiB", Double($0) / 1_048_576) : String(format: "%.1f KiB", Double($0) / 1024) } ?? "-"
            print(PFBench.pad(row.scenario, 13) + PFBench.pad(row.tool, 14) + PFBench.pad(row.summary.timeText, 32)
                  + PFBench.pad(ratio, 15) + PFBench.pad("\(row.summary.peakRSSKiB / 1024) MiB", 10) + growth)
        }
        let cold = rows.first { $0.scenario == "cold push" && $0.tool == "pfhost push" }
        let warm = rows.first { $0.scenario == "2% push" && $0.tool == "pfhost push" }
        if let cold, let warm, let coldBytes = cold.growth, let warmBytes = warm.growth, coldBytes > 0 {
            print(String(format: "\npfhost 2%% push ÷ cold push: %.2fx the time, %.1f%% of the bytes", warm.summary.median / cold.summary.median,
                         Double(warmBytes) * 100 / Double(coldBytes)))
        }
    }
}

/// docker-registry on 127.0.0.1 on a free port, storing under `data`, for the benchmark's life
/// (`name` names its config file).
final class LocalRegistry {
    let host: String
    private let process = Process()

    init(work: String, data: String, name: String) throws {
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, length) == 0 && getsockname(probe, $0, &length) == 0 } }
        close(probe)
        let port = Int(UInt16(bigEndian: address.sin_port))
        host = "127.0.0.1:\(port)"
        let config = work + "/registry-\(name).yml"
        try "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: \(data)\n  delete:\n    enabled: true\nhttp:\n  addr: \(host)\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/docker-registry")
        process.arguments = ["serve", config]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<500 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var target = address
            let up = withUnsafePointer(to: &target) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 } }
            close(fd)
            if up { return }
            usleep(20_000)
        }
        throw CocoaError(.fileReadUnknown)
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}
