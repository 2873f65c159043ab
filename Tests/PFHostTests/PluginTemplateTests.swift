import Foundation
import Testing
import PFModel

/// The Rust and Swift templates of `plugin-sdk/examples/` build with their own tools, as an outside
/// author builds them, and pass `pfhost check-plugin`. Build outputs are kept under `.build/` so a
/// second run rebuilds nothing.
@Suite("Plugin templates", .serialized)
struct PluginTemplateTests {
    static let conversation = repositoryRoot + "/Examples/agent/trace/conversation.jsonl"

    /// Runs `pfhost check-plugin` on `file` with the example conversation; every check must pass,
    /// the restore round trip included (each template is the C example, restore and all).
    static func checks(_ file: String) throws {
        let output = try pfhost("check-plugin", file, "--set", "path=\(conversation)")
        #expect(output.status == 0, "\(output)")
        #expect(!output.stdout.contains("\nwarn ") && !output.stdout.hasPrefix("warn "), "\(output)")
        #expect(output.stdout.contains("\npass  restore "), "\(output)")
    }

    @Test("the Rust template: cargo test checks its bindings against pf_plugin.h, cargo build makes a plugin that passes check-plugin")
    func rust() throws {
        let directory = repositoryRoot + "/plugin-sdk/examples/rust"
        let target = repositoryRoot + "/.build/example-rust"
        let test = try run("/usr/bin/env", ["cargo", "test", "--offline", "--quiet", "--target-dir", target], currentDirectory: directory)
        #expect(test.status == 0, "\(test)")
        #expect(test.stdout.contains("test result: ok. 3 passed"), "\(test)")
        let build = try run("/usr/bin/env", ["cargo", "build", "--release", "--offline", "--quiet", "--target-dir", target], currentDirectory: directory)
        try #require(build.status == 0, "\(build)")
        try Self.checks(target + "/release/libexample_trace.so")
    }

    @Test("the Swift template: a package of its own, depending only on plugin-sdk/PFPluginSDK, builds one .so that passes check-plugin")
    func swift() throws {
        let directory = repositoryRoot + "/plugin-sdk/examples/swift"
        let scratch = repositoryRoot + "/.build/example-swift"
        let build = try run("/usr/bin/env", ["swift", "build", "--package-path", directory, "--scratch-path", scratch])
        try #require(build.status == 0, "\(build)")
        let products = try FileManager.default.contentsOfDirectory(atPath: scratch + "/debug").filter { $0.hasSuffix(".so") }
        #expect(products == ["libexample-trace-swift.so"])
        try Self.checks(scratch + "/debug/libexample-trace-swift.so")
        // It resolved nothing from outside the repository: no package but the SDK kit.
        let resolved = try? String(contentsOfFile: directory + "/Package.resolved", encoding: .utf8)
        #expect(resolved == nil || !resolved!.contains("\"location\" : \"https"), "\(resolved ?? "")")
    }
}
