import Foundation
import Testing
import PFModel
import PFStore

/// Progress on stderr: drawn on a terminal by default, forced on into a pipe by `--progress`
/// (whole lines), off with `--quiet`; stdout is the same in every case.
@Suite("Progress")
struct ProgressTests {
    typealias Agent = ReferencePluginTests.Agent

    private func progressLines(_ output: ProcessOutput) -> [Substring] {
        output.stderr.split(separator: "\n").filter { $0.hasPrefix("pfhost: progress: ") }
    }

    @Test("snapshot --progress into a pipe prints progress lines with the bytes stored; --quiet and the default print none")
    func snapshot() throws {
        let agent = try Agent()
        let forced = try agent.snapshot(["--progress"])
        #expect(forced.status == 0, "\(forced)")
        let lines = progressLines(forced)
        #expect(!lines.isEmpty, "\(forced)")
        // The last line is the final state: every layer stored something in an empty store.
        let last = try #require(lines.last)
        for kind in LayerKind.allCases { #expect(last.contains("\(kind) "), "\(last)") }
        #expect(last.contains("model 100% 28.9 KiB"), "\(last)")
        // The ledger and the conversation go through blob writers: each byte counted once.
        #expect(last.contains("effects 100% 864 B") && last.contains("trace 100% 792 B"), "\(last)")
        #expect(last.hasSuffix(" in all)"), "\(last)")
        #expect(forced.stdout.split(separator: "\n").count == 1 && forced.stdout.hasPrefix("sha256:"))

        let quiet = try agent.snapshot(["--quiet"])
        #expect(quiet.status == 0 && !quiet.stderr.contains("progress"), "\(quiet)")
        let plain = try agent.snapshot()
        #expect(plain.status == 0 && !plain.stderr.contains("progress"), "\(plain)")

        // In capture processes of their own, the captures' bytes reach the line too.
        let isolated = try Agent()
        let separate = try isolated.snapshot(["--progress", "--isolate"])
        #expect(separate.status == 0, "\(separate)")
        let isolatedLast = try #require(progressLines(separate).last, "\(separate)")
        #expect(isolatedLast.contains("model 100% 28.9 KiB"), "\(isolatedLast)")
        #expect(isolatedLast == last, "in process: \(last)\nisolated: \(isolatedLast)")

        let both = try agent.snapshot(["--progress", "--quiet"])
        #expect(both.status == 64, "\(both)")
        #expect(both.stderr.contains("give --progress or --quiet, not both"), "\(both)")
    }

    @Test("on a terminal the line is drawn in place and erased; --quiet draws nothing there")
    func terminal() throws {
        let agent = try Agent()
        // script(1) gives the command a terminal for stdout and stderr alike.
        func onTerminal(_ extra: String) throws -> ProcessOutput {
            try run("/usr/bin/script", ["-qec", "\(productsDirectory)/pfhost snapshot --plugins \(agent.plugins) --store \(agent.store) --config \(agent.root)/pfhost.json \(extra)", "/dev/null"])
        }
        let drawn = try onTerminal("")
        #expect(drawn.status == 0, "\(drawn)")
        // Each plugin's completion is drawn at once, with the bytes its layer stored before it.
        #expect(drawn.stdout.contains("\r\u{1B}[K") && drawn.stdout.contains("model 100% 28.9 KiB"), "\(drawn)")
        #expect(!drawn.stdout.contains("pfhost: progress: "))
        let quiet = try onTerminal("--quiet")
        #expect(quiet.status == 0 && !quiet.stdout.contains("\u{1B}[K") && quiet.stdout.hasPrefix("sha256:"), "\(quiet)")
    }

    @Test("restore --progress prints the bytes of the blobs handed to each plugin; --quiet none")
    func restore() throws {
        let agent = try Agent()
        _ = try agent.manifest(["--tag", "main"])
        let forced = try run(productsDirectory + "/pfhost", ["restore", "main", "--plugins", agent.plugins, "--store", agent.store,
                                                             "--to", agent.dir.file("r1"), "--progress"])
        #expect(forced.status == 0, "\(forced)")
        let last = try #require(progressLines(forced).last, "\(forced)")
        #expect(last.contains("model 100% 28.9 KiB"), "\(last)")
        #expect(forced.stdout == agent.dir.file("r1") + "\n")
        let quiet = try run(productsDirectory + "/pfhost", ["restore", "main", "--plugins", agent.plugins, "--store", agent.store,
                                                            "--to", agent.dir.file("r2"), "-q"])
        #expect(quiet.status == 0 && progressLines(quiet).isEmpty, "\(quiet)")
        let plain = try run(productsDirectory + "/pfhost", ["restore", "main", "--plugins", agent.plugins, "--store", agent.store,
                                                            "--to", agent.dir.file("r3")])
        #expect(plain.status == 0 && progressLines(plain).isEmpty, "\(plain)")
    }
}
