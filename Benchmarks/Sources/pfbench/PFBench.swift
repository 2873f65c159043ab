import Foundation
import PFModel
import PFStore

/// pfhost's benchmarks. Run them with `Benchmarks/run`; see docs/performance.md.
///
///     pfbench ingest   --work DIR [--mib 1024] [--runs 3]   store ingest vs openssl dgst and cp+sync
///     pfbench overhead --pfhost BIN --plugins DIR [--runs 21]   snapshot of empty layers vs --version
///     pfbench snapshots --repo DIR --work DIR --pfhost BIN --plugins DIR [--scale synthetic|large] [--runs N] [--json]
///     pfbench restores --repo DIR --work DIR --pfhost BIN --plugins DIR [--scale synthetic|large] [--runs N] [--json]
///     pfbench registry --repo DIR --work DIR --pfhost BIN --plugins DIR [--scale synthetic|large] [--runs N] [--json]
///     pfbench sha256 [--mib 256] [--streams 64] [--runs 3]  SHA-256 kernels' throughput across lanes
///     pfbench json MANIFEST.json                            manifest JSON coding: pfhost vs Foundation
///     pfbench ingest-child STORE FILE...                    (internal) one measured ingest
@main
struct PFBench {
    static func main() throws {
        var arguments = Array(CommandLine.arguments.dropFirst())
        guard !arguments.isEmpty else { usage() }
        let command = arguments.removeFirst()
        switch command {
        case "ingest": try ingest(options(arguments))
        case "overhead": overhead(options(arguments))
        case "ingest-child": try ingestChild(arguments)
        case "hash-child": try hashChild(arguments)
        case "sha256": HashBench.run(options(arguments))
        case "json": try JSONBench.run(arguments[0])
        case "snapshots": try snapshots(options(arguments), json: arguments.contains("--json"))
        case "restores": try restores(options(arguments), json: arguments.contains("--json"))
        case "registry": try registry(options(arguments), json: arguments.contains("--json"))
        default: usage()
        }
    }

    static func usage() -> Never {
        print("usage: pfbench ingest --work DIR [--mib N] [--runs N] | overhead --pfhost BIN --plugins DIR [--runs N]")
        exit(64)
    }

    static func options(_ arguments: [String]) -> [String: String] {
        var result: [String: String] = [:]
        var index = 0
        while index < arguments.count, arguments[index].hasPrefix("--") {
            if index + 1 < arguments.count, !arguments[index + 1].hasPrefix("--") {
                result[String(arguments[index].dropFirst(2))] = arguments[index + 1]
                index += 2
            } else {
                result[String(arguments[index].dropFirst(2))] = ""
                index += 1
            }
        }
        return result
    }

    static let selfPath = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]

    /// Writes `count` files of `bytes` each with deterministic pseudo-random content.
    static func makeFiles(in directory: String, count: Int, bytes: Int) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var chunk = [UInt64](repeating: 0, count: 1 << 17)
        var files: [String] = []
        for n in 0..<count {
            let path = directory + "/part-\(n).bin"
            files.append(path)
            if (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) == bytes { continue }
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            var written = 0
            while written < bytes {
                for i in chunk.indices {
                    state ^= state << 13; state ^= state >> 7; state ^= state << 17
                    chunk[i] = state
                }
                let data = chunk.withUnsafeBytes { Data($0.prefix(bytes - written)) }
                handle.write(data)
                written += data.count
            }
            try handle.close()
        }
        return files
    }

    static func ingestChild(_ arguments: [String]) throws {
        let store = try SnapshotStore.openOrCreate(at: arguments[0], durability: .batch)
        for file in arguments.dropFirst() { _ = try store.putFile(at: file) }
        try store.flush()
    }

    /// Hashes files with pfhost's SHA256Hasher (libcrypto) in 1 MiB reads: the hash alone.
    static func hashChild(_ files: [String]) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        for file in files {
            let fd = open(file, O_RDONLY)
            precondition(fd >= 0, "cannot open \(file)")
            let hasher = SHA256Hasher()
            while true {
                let n = read(fd, buffer.baseAddress, buffer.count)
                if n <= 0 { break }
                hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            }
            close(fd)
            print(hasher.finalize())
        }
    }

    static func ingest(_ options: [String: String]) throws {
        let work = options["work"] ?? NSTemporaryDirectory() + "/pfbench"
        let mib = Int(options["mib"] ?? "1024")!
        let runs = Int(options["runs"] ?? "3")!
        let fileCount = 16
        let files = try makeFiles(in: work + "/data", count: fileCount, bytes: mib << 20 / fileCount)
        let small = Array(files.prefix(max(1, fileCount / 8)))
        let total = Double(mib << 20)
        func fresh(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

        var table: [(String, Summary, Double)] = []
        let openssl = (0..<runs).map { _ in Measurement.run(["/usr/bin/openssl", "dgst", "-sha256"] + files) }
        table.append(("openssl dgst -sha256", Summary(openssl), total))
        let hash = (0..<runs).map { _ in Measurement.run([selfPath, "hash-child"] + files) }
        table.append(("pfhost SHA256Hasher (hash only)", Summary(hash), total))
        let copy = (0..<runs).map { _ -> Measurement in
            fresh(work + "/copy")
            try? FileManager.default.createDirectory(atPath: work + "/copy", withIntermediateDirectories: true)
            return Measurement.run(["/bin/sh", "-c", "cp \(files.joined(separator: " ")) \(work)/copy/ && sync -f \(work)/copy"])
        }
        table.append(("cp + sync (write floor)", Summary(copy), total))
        let pfhost = (0..<runs).map { _ -> Measurement in
            fresh(work + "/store")
            return Measurement.run([selfPath, "ingest-child", work + "/store"] + files)
        }
        table.append(("pfhost putFile (batch)", Summary(pfhost), total))
        let pfhostSmall = (0..<runs).map { _ -> Measurement in
            fresh(work + "/store")
            return Measurement.run([selfPath, "ingest-child", work + "/store"] + small)
        }
        table.append(("pfhost putFile, 1/8 of the data", Summary(pfhostSmall), total / 8))
        fresh(work + "/store")
        fresh(work + "/copy")

        print("Ingest of \(mib) MiB in \(fileCount) files, \(runs) runs each, median (min–max)\n")
        print(pad("what", 34) + pad("time", 28) + pad("throughput", 14) + "peak RSS")
        for (name, summary, bytes) in table {
            let throughput = String(format: "%.0f MB/s", bytes / summary.median / 1e6)
            print(pad(name, 34) + pad(summary.timeText, 28) + pad(throughput, 14) + "\(summary.peakRSSKiB / 1024) MiB")
        }
        let ratio = Summary(pfhost).median / Summary(openssl).median
        print(String(format: "\npfhost / openssl: %.2fx the time; pfhost / (cp + sync): %.2fx", ratio, Summary(pfhost).median / Summary(copy).median))
    }

    static func snapshots(_ options: [String: String], json: Bool) throws {
        guard let repo = options["repo"], let work = options["work"], let binary = options["pfhost"], let plugins = options["plugins"] else { usage() }
        let scale = options["scale"] ?? "synthetic"
        let runs = Int(options["runs"] ?? "5")!
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let benchmark = SnapshotBenchmark(repo: repo, work: work, scale: scale, runs: runs, pfhost: binary, plugins: plugins)
        let rows = try benchmark.run()
        SnapshotBenchmark.report(rows, scale: scale, runs: runs, fixtureBytes: benchmark.size(of: work + "/agent-\(scale)"), json: json)
    }

    static func restores(_ options: [String: String], json: Bool) throws {
        guard let repo = options["repo"], let work = options["work"], let binary = options["pfhost"], let plugins = options["plugins"] else { usage() }
        let scale = options["scale"] ?? "synthetic"
        let runs = Int(options["runs"] ?? "5")!
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let benchmark = RestoreBenchmark(repo: repo, work: work, scale: scale, runs: runs, pfhost: binary, plugins: plugins)
        RestoreBenchmark.report(try benchmark.run(), scale: scale, runs: runs, json: json)
    }

    static func registry(_ options: [String: String], json: Bool) throws {
        guard let repo = options["repo"], let work = options["work"], let binary = options["pfhost"], let plugins = options["plugins"] else { usage() }
        let scale = options["scale"] ?? "synthetic"
        let runs = Int(options["runs"] ?? "5")!
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let benchmark = RegistryBenchmark(repo: repo, work: work, scale: scale, runs: runs, pfhost: binary, plugins: plugins)
        RegistryBenchmark.report(try benchmark.run(), scale: scale, runs: runs, json: json)
    }

    static func overhead(_ options: [String: String]) {
        guard let binary = options["pfhost"], let plugins = options["plugins"] else { usage() }
        let runs = Int(options["runs"] ?? "21")!
        let store = NSTemporaryDirectory() + "/pfbench-overhead-store"
        try? FileManager.default.removeItem(atPath: store)
        let version = Summary((0..<runs).map { _ in Measurement.run([binary, "--version"]) })
        let snapshot = Summary((0..<runs).map { _ in
            Measurement.run([binary, "snapshot", "--plugins", plugins, "--store", store])
        })
        try? FileManager.default.removeItem(atPath: store)
        print("Host overhead, \(runs) runs each, median (min–max)\n")
        print(pad("what", 52) + pad("time", 28) + "peak RSS")
        print(pad("pfhost --version (process startup)", 52) + pad(version.timeText, 28) + "\(version.peakRSSKiB / 1024) MiB")
        print(pad("pfhost snapshot, 5 plugins storing one tiny blob", 52) + pad(snapshot.timeText, 28) + "\(snapshot.peakRSSKiB / 1024) MiB")
        print(String(format: "\nsnapshot / startup: %.2fx", snapshot.median / version.median))
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
