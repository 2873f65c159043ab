import Foundation
import Testing
import PFModel
@testable import PFHost

/// `pfhost check-plugin`: one plugin alone, every conformance check, pass or fail with the reason.
@Suite("pfhost check-plugin")
struct CheckPluginTests {
    /// The checks of a `--json` run, by name, and the exit status.
    static func check(_ arguments: [String], environment: [String: String] = [:], currentDirectory: String? = nil) throws
        -> (status: Int32, checks: [String: PluginCheck], output: ProcessOutput) {
        let output = try pfhost(["check-plugin"] + arguments + ["--json"], environment: environment, currentDirectory: currentDirectory)
        let value = try JSONParser.parse(Array(output.stdout.utf8.dropLast()))
        #expect(value["schema"] == .string("pfhost.check-plugin/1"), "\(output)")
        var checks: [String: PluginCheck] = [:]
        for item in value["checks"]?.items ?? [] { if let check = PluginCheck(json: item) { checks[check.name] = check } }
        #expect(checks.count == PluginCheck.all.count, "\(output)")
        #expect(value["passed"] == .bool(output.status == 0))
        return (output.status, checks, output)
    }

    @Test("each reference plugin passes every check with the example agent's config, alone",
          arguments: [("model", "agent"), ("cache", "agent"), ("world", "agent"), ("effects", "agent"), ("trace", "agent"),
                      ("model", "hosted-agent"), ("cache", "hosted-agent")])
    func referencePlugins(kind: String, agent: String) throws {
        let dir = TemporaryDirectory()
        try FileManager.default.copyItem(atPath: repositoryRoot + "/Examples/" + agent, toPath: dir.file("agent"))
        let (status, checks, output) = try Self.check([productsDirectory + "/libpf-\(kind).so", "--config", dir.file("agent/pfhost.json")])
        #expect(status == 0, "\(output)")
        for check in checks.values { #expect(check.status == .pass, "\(check)") }
    }

    @Test("the C example passes every check, and the text output has one line per check")
    func cExample() throws {
        let dir = TemporaryDirectory()
        let build = dir.directory("c")
        for file in ["trace_lines.c", "Makefile"] {
            try FileManager.default.copyItem(atPath: repositoryRoot + "/plugin-sdk/examples/c/" + file, toPath: build + "/" + file)
        }
        let make = try run("/usr/bin/make", ["-C", build, "SDK_INCLUDE=\(repositoryRoot)/plugin-sdk/include"])
        try #require(make.status == 0, "\(make)")
        let conversation = repositoryRoot + "/Examples/agent/trace/conversation.jsonl"
        let output = try pfhost("check-plugin", build + "/libexample-trace.so", "--set", "path=\(conversation)")
        #expect(output.status == 0, "\(output)")
        let lines = output.stdout.split(separator: "\n")
        #expect(lines.count == PluginCheck.all.count + 1)
        for (line, check) in zip(lines, PluginCheck.all) { #expect(line.hasPrefix("pass  \(check.name) "), "\(line)") }
        #expect(lines.last == "ok: 12 passed, 0 failed, 0 warnings, 0 skipped")
    }

    @Test("a plugin that breaks a rule fails that check with the reason, and exits 2", arguments: [
        (["mode=random"], "determinism", "the second capture of unchanged input gave another layer than the first: /blobs/0/digest: "),
        (["mode=differ-on-third"], "determinism", "the third capture of unchanged input gave another layer than the first: /blobs/0/digest: "),
        (["mode=leak-fd"], "descriptors", "3 file descriptor(s) left open by the captures"),
        (["mode=leak-fd-sometimes"], "descriptors", "2 file descriptor(s) left open by the captures"),
        (["mode=unknown-field"], "capture", "the layer does not match plugin-sdk/schema/layer-trace.schema.json: /extra is not a field of this object"),
        (["mode=error-ok"], "capture", "capture returned PF_OK after set_error(\"something went wrong\")"),
        (["mode=deaf"], "cancellation", "still running 2 s after the capture was cancelled (at its first host service call"),
        (["mode=segv"], "capture", "the checker's worker process killed by SIGSEGV during this check: the plugin crashed or hung (pfhost snapshot --isolate"),
        (["mode=exit"], "capture", "exit"),
    ])
    func failures(settings: [String], failing: String, reason: String) throws {
        let file = PluginBuilder.standard[.trace]!
        let (status, checks, output) = try Self.check([file] + settings.flatMap { ["--set", $0] })
        #expect(status == 2, "\(output)")
        let check = try #require(checks[failing])
        #expect(check.status == .fail && check.detail.contains(reason), "\(check)")
        #expect(checks["exports"]?.status == .pass && checks["loads"]?.status == .pass)
    }

    @Test("a plugin exporting more than its entry gets a warning, not a failure; one without the entry fails, unloaded")
    func exports() throws {
        let dir = TemporaryDirectory()
        let source = dir.file("p.c")
        try Data("""
            #include "pf_plugin.h"
            #include <string.h>
            int helper_visible_to_all(void) { return 1; }
            static int32_t capture(const pf_host *h, pf_ctx *c) {
                char d[PF_DIGEST_STRLEN], j[512];
                if (h->put_blob(c, "text/plain", "x", 1, d) != PF_OK) return PF_ERR_IO;
                snprintf(j, sizeof j, "{\\"kind\\":\\"trace\\",\\"blobs\\":[{\\"media_type\\":\\"text/plain\\",\\"digest\\":\\"%s\\",\\"size\\":1}],\\"messages\\":\\"%s\\",\\"message_count\\":0}", d, d);
                return h->set_layer(c, j, strlen(j));
            }
            static const pf_plugin plugin = { sizeof(pf_plugin), PF_ABI_MAJOR, PF_ABI_MINOR, PF_LAYER_TRACE, "org.example.t", "1.0.0", "t", capture, NULL, 0, 0, NULL, NULL };
            const pf_plugin *pf_plugin_entry_v1(void) { return &plugin; }

            """.replacing("#include <string.h>", with: "#include <string.h>\n#include <stdio.h>").utf8).write(to: URL(fileURLWithPath: source))
        let file = dir.file("p.so")
        let built = try run("/usr/bin/cc", ["-shared", "-fPIC", "-I", repositoryRoot + "/plugin-sdk/include", "-o", file, source])
        try #require(built.status == 0, "\(built)")
        try #require(chmod(file, 0o755) == 0)
        let (status, checks, output) = try Self.check([file])
        #expect(status == 0, "\(output)")
        #expect(checks["exports"]?.status == .warn && checks["exports"]?.detail.contains("helper_visible_to_all") == true, "\(output)")
        #expect(checks["settings"]?.status == .warn)
        #expect(checks["restore"]?.status == .skip)

        let marker = dir.file("ran")
        let library = try PluginBuilder.build(kind: .trace, defines: ["TEST_NO_ENTRY", "PF_TEST_CONSTRUCTOR_MARKER=\"\(marker)\""], into: dir.path, name: "lib.so")
        let none = try Self.check([library])
        #expect(none.status == 2)
        #expect(none.checks["exports"]?.status == .fail && none.checks["exports"]?.detail.hasPrefix("does not export pf_plugin_entry_v1") == true)
        #expect(none.checks["loads"]?.status == .skip)
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test("settings are checked as a snapshot checks them: an unknown key fails the settings check, naming the nearest")
    func settings() throws {
        let conversation = repositoryRoot + "/Examples/agent/trace/conversation.jsonl"
        let (status, checks, output) = try Self.check([productsDirectory + "/libpf-trace.so", "--set", "paht=\(conversation)"])
        #expect(status == 2, "\(output)")
        #expect(checks["settings"]?.detail == "trace.paht is not a setting of plugin \(productsDirectory)/libpf-trace.so (dev.pfhost.trace.chat, trace layer) (did you mean trace.path?); its settings: path, racy_window_ms", "\(output)")
        #expect(checks["capture"]?.status == .skip)
        // KIND.KEY works too.
        #expect(try Self.check([productsDirectory + "/libpf-trace.so", "--set", "trace.path=\(conversation)"]).status == 0)
    }

    @Test("a plugin that differs from the third capture on fails determinism, and concurrent-services is not blamed")
    func differsLater() throws {
        let (status, checks, output) = try Self.check([PluginBuilder.standard[.trace]!, "--set", "mode=differ-from-third"])
        #expect(status == 2, "\(output)")
        #expect(checks["determinism"]?.status == .fail && checks["determinism"]?.detail.hasPrefix("the third capture") == true, "\(output)")
        #expect(checks["concurrent-services"]?.status == .skip, "\(output)")
    }

    @Test("a capture is cancelled while it runs: one that looks at cancelled() only on entry fails cancellation")
    func cancelledWhileRunning() throws {
        let dir = TemporaryDirectory()
        let file = try PluginBuilder.build(kind: .trace, defines: ["TEST_CANCEL_AT_START"], into: dir.path, name: "late.so")
        let (status, checks, output) = try Self.check([file])
        #expect(status == 2, "\(output)")
        #expect(checks["cancellation"]?.status == .fail && checks["cancellation"]?.detail.hasPrefix("still running 2 s after the capture was cancelled") == true, "\(output)")
    }

    @Test("the restore round trip captures from inside the restored TARGET: a restore that writes an empty file and records nothing fails")
    func lazyRestore() throws {
        let dir = TemporaryDirectory()
        let file = try PluginBuilder.build(kind: .trace, defines: ["TEST_LAZY_RESTORE"], into: dir.path, name: "lazy.so")
        // The default `content.bin` is in the checker's working directory, not in what was restored.
        let work = dir.directory("work")
        try Data("the agent's content".utf8).write(to: URL(fileURLWithPath: work + "/content.bin"))
        let (status, checks, output) = try Self.check([file], currentDirectory: work)
        #expect(status == 2, "\(output)")
        #expect(checks["capture"]?.status == .pass, "\(output)")
        #expect(checks["restore"]?.status == .fail && checks["restore"]?.detail.contains("from inside the restored directory with the settings it recorded (none)") == true, "\(output)")
        // The well-behaved restore records mode=file and path=content.bin: it passes from there too.
        #expect(try Self.check([PluginBuilder.standard[.trace]!]).checks["restore"]?.status == .pass)
    }

    @Test("the scratch store is removed whatever happens to the worker", arguments: [["--set", "mode=segv"], ["--set", "mode=ok"]])
    func scratchRemoved(settings: [String]) throws {
        let dir = TemporaryDirectory()
        let temporary = dir.directory("tmp")
        let (_, checks, output) = try Self.check([PluginBuilder.standard[.trace]!] + settings, environment: ["TMPDIR": temporary])
        #expect(checks["capture"] != nil, "\(output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary) == [], "\(output)")
    }

    @Test("a --set for another kind's layer is refused, exit 78, naming the plugin's kind")
    func settingOfAnotherKind() throws {
        let output = try pfhost("check-plugin", PluginBuilder.standard[.trace]!, "--set", "model.path=x")
        #expect(output.status == 78, "\(output)")
        #expect(output.stderr.contains("--set 'model.path=x' is for the model layer, but \(PluginBuilder.standard[.trace]!) captures the trace layer"), "\(output)")
        #expect(output.stdout.contains("fail  settings"), "\(output)")
    }

    @Test("a plugin crashing in restore: the message says pfhost restore runs it in process, and suggests no flag that does not exist")
    func crashInRestore() throws {
        let dir = TemporaryDirectory()
        let file = try PluginBuilder.build(kind: .trace, defines: ["TEST_CRASH_RESTORE"], into: dir.path, name: "crash.so")
        let (status, checks, output) = try Self.check([file])
        #expect(status == 2, "\(output)")
        let detail = checks["restore"]?.detail ?? ""
        #expect(detail.contains("killed by SIGSEGV") && detail.contains("pfhost restore runs plugins in its own process"), "\(output)")
        #expect(!output.stdout.contains("--isolate"), "\(output)")
    }
}
