import Foundation
import Testing

/// `plugin-sdk/README.md` is run, not just read: every `sh` block in it, in order, as one script, in a
/// copy of `plugin-sdk/` with `PFHOST` naming this repository, exactly as a newcomer would type them.
@Suite("The SDK guide's commands")
struct SDKGuideTests {
    /// The `sh` blocks of the guide, in order.
    static func commands() throws -> [String] {
        let guide = try String(contentsOfFile: repositoryRoot + "/plugin-sdk/README.md", encoding: .utf8)
        var blocks: [String] = [], current: [Substring]?
        for line in guide.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line == "```sh" { current = [] } else if current != nil, line == "```" {
                blocks.append(current!.joined(separator: "\n"))
                current = nil
            } else if current != nil { current!.append(line) }
        }
        return blocks
    }

    @Test("the guide has a block for C, Rust, Swift and a whole snapshot, and every command in it succeeds")
    func guideRuns() throws {
        let blocks = try Self.commands()
        let script = blocks.joined(separator: "\n")
        for needed in ["make -C examples/c", "cargo build --release --offline", "swift build --package-path examples/swift",
                       "pfhost check-plugin examples/rust/", "pfhost check-plugin examples/swift/", "pfhost restore first"] {
            #expect(script.contains(needed), "the guide lost \(needed)")
        }
        let dir = TemporaryDirectory()
        let sdk = dir.directory("plugin-sdk")
        let copy = try run("/bin/sh", ["-c", "tar -C \"$0\" --exclude=target --exclude=.build --exclude=Package.resolved -cf - . | tar -C \"$1\" -xf -",
                                       repositoryRoot + "/plugin-sdk", sdk])
        try #require(copy.status == 0, "\(copy)")
        let output = try run("/bin/bash", ["-euo", "pipefail", "-x", "-c", script], environment: ["PFHOST": repositoryRoot], currentDirectory: sdk)
        #expect(output.status == 0, "\(output)")
        // Each check-plugin run passed every check, and the second snapshot has the first as parent.
        #expect(output.stdout.components(separatedBy: "ok: ").count - 1 >= 3, "\(output.stdout)")
        #expect(!output.stdout.contains("FAILED"))
        #expect(output.stdout.contains("pfhost 0.1.0 (plugin ABI 1.1, swift-"))
        let log = output.stdout.split(separator: "\n").suffix(2)
        #expect(log.count == 2 && log.first?.contains("(again)") == true, "\(log)")
    }
}
