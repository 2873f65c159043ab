import Foundation

/// `pfbench restores`: `pfhost restore` of the agent fixture into an empty directory, beside
/// `cp -a` of the agent directory and `restic restore` of a backup of it: the same bytes written,
/// in one run.
///
/// The store and the restic repository are filled once, untimed; each measured run then writes
/// into a directory that does not exist (removed before the run, untimed), the three tools taking
/// turns. Nothing is flushed to disk by any of the three (none of them fsyncs), and every run starts
/// after a `sync(2)`.
struct RestoreBenchmark {
    let repo: String
    let work: String
    let scale: String
    let runs: Int
    let pfhost: String
    let plugins: String

    struct Row {
        let tool: String
        let summary: Summary
        let bytes: Int64
    }

    func run() throws -> [Row] {
        let fixture = BenchmarkSupport.fixture(repo: repo, work: work, scale: scale)
        let agent = work + "/restore-agent"
        remove(agent)
        check(Measurement.run(["/bin/cp", "-a", fixture, agent]), "copying the fixture")
        let store = work + "/restore-store", restic = work + "/restore-restic"
        remove(store)
        remove(restic)
        check(Measurement.run([pfhost, "snapshot", "--plugins", plugins, "--store", store, "--config", agent + "/pfhost.json", "--tag", "agent"]),
              "pfhost snapshot")
        let resticEnv = ["/usr/bin/env", "RESTIC_PASSWORD=pfbench", "RESTIC_REPOSITORY=\(restic)", "RESTIC_CACHE_DIR=\(work)/restic-cache"]
        check(Measurement.run(resticEnv + ["/usr/bin/restic", "init", "-q"]), "restic init")
        check(Measurement.run(resticEnv + ["/usr/bin/restic", "backup", "-q", agent]), "restic backup")

        let copy = work + "/restore-copy", restored = work + "/restore-pfhost", resticTarget = work + "/restore-restic-target"
        // Every run writes into a directory of its own, and all are removed only after the last run.
        // On ext4 without a journal (as on the benchmark machine) the inode allocator skips every
        // inode freed in the last 60 seconds, 300 while its inode-table block is dirty
        // (`recently_deleted`, a buffer lookup per skipped inode), so a run that follows the
        // removal of the last one's 600 (or 20,000) files pays for that removal, and whichever
        // tool ran right after one paid most (twice cp -a's time, measured). Restoring into a
        // fresh directory is also what users do. The three still take turns, one run each per
        // round, so all meet the same file system and the deletions of earlier benchmarks alike.
        let tools: [(name: String, target: String, command: (String) -> [String])] = [
            ("cp -a", copy, { ["/bin/cp", "-a", agent, $0] }),
            // Its reports (the pending effect, what the world cannot re-create) would fill the terminal.
            ("pfhost restore", restored, { ["/bin/sh", "-c", "exec \"$0\" \"$@\" 2>/dev/null", pfhost, "restore", "agent", "--plugins", plugins,
                                            "--store", store, "--to", $0] }),
            ("restic restore", resticTarget, { resticEnv + ["/usr/bin/restic", "restore", "-q", "latest", "--target", $0] }),
        ]
        func target(_ base: String, _ round: Int) -> String { base + "-\(round)" }
        for tool in tools { for round in 0..<runs { remove(target(tool.target, round)) } }
        var measured = [[Measurement]](repeating: [], count: tools.count)
        for round in 0..<runs {
            for (index, tool) in tools.enumerated() {
                let m = Measurement.run(tool.command(target(tool.target, round)))
                check(m, "a measured command")
                measured[index].append(m)
            }
        }
        let rows = tools.enumerated().map { index, tool in Row(tool: tool.name, summary: Summary(measured[index]), bytes: size(of: target(tool.target, 0))) }
        for tool in tools { for round in 0..<runs { remove(target(tool.target, round)) } }
        for path in [restic, store, agent] { remove(path) }
        return rows
    }

    private func check(_ m: Measurement, _ what: String) {
        if m.status != 0 {
            FileHandle.standardError.write(Data("pfbench: \(what) failed (status \(m.status))\n".utf8))
            exit(1)
        }
    }

    private func remove(_ path: String) {
        guard FileManager.default.fileExists(atPath: path) else { return }
        // A restore's directories may have been left read-only by their recorded modes.
        _ = Measurement.run(["/bin/chmod", "-R", "u+rwx", path])
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Bytes of regular files under `root`.
    private func size(of root: String) -> Int64 { BenchmarkSupport.size(of: root) }

    /// Prints the table and pfhost's ratio to each reference, against issue 11's targets.
    static func report(_ rows: [Row], scale: String, runs: Int, json: Bool) {
        func ms(_ s: Double) -> String { String(format: "%.1f", s * 1000) }
        let mine = rows.first { $0.tool == "pfhost restore" }!.summary.median
        if json {
            let items = rows.map { row in
                "{\"tool\":\"\(row.tool)\",\"median_ms\":\(ms(row.summary.median)),\"min_ms\":\(ms(row.summary.min)),\"max_ms\":\(ms(row.summary.max)),\"peak_rss_kib\":\(row.summary.peakRSSKiB),\"bytes\":\(row.bytes)}"
            }
            print("{\"scale\":\"\(scale)\",\"runs\":\(runs),\"rows\":[\(items.joined(separator: ","))]}")
            return
        }
        print("Restores of the \(scale) agent into an empty directory, \(runs) runs each, median (min–max)\n")
        print(PFBench.pad("tool", 18) + PFBench.pad("time", 32) + PFBench.pad("pfhost ÷ this", 15) + PFBench.pad("peak RSS", 10) + "bytes written")
        for row in rows {
            let ratio = row.tool == "pfhost restore" ? "-" : String(format: "%.2fx", mine / row.summary.median)
            print(PFBench.pad(row.tool, 18) + PFBench.pad(row.summary.timeText, 32) + PFBench.pad(ratio, 15)
                  + PFBench.pad("\(row.summary.peakRSSKiB / 1024) MiB", 10) + String(format: "%.1f MiB", Double(row.bytes) / 1_048_576))
        }
        let copy = rows.first { $0.tool == "cp -a" }!.summary.median
        let restic = rows.first { $0.tool == "restic restore" }!.summary.median
        print(String(format: "\ntargets: ≤ 1.5 × cp -a: %.2f × (%@); faster than restic restore: %.2f × (%@)",
                     mine / copy, mine <= 1.5 * copy ? "met" : "not met", mine / restic, mine < restic ? "met" : "not met"))
    }
}
