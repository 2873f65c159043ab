import Foundation
import PFModel
import PFStore
import PFTestSupport
import Testing

/// A snapshot loads first the plugin whose capture took longest in the store's last snapshot
/// (`ingest/load-first.v1`), so the longest capture starts earliest; the hint changes nothing else.
@Suite("load order: the longest capture's plugin first")
struct LoadOrderTests {
    /// Five test plugins (`cache.so` … `world.so`) that append their kind to `log` as they load.
    final class Logged {
        let build = TemporaryDirectory()
        let setup: SnapshotCommandTests.Setup
        var log: String { build.file("loads") }
        var hint: String { setup.store + "/ingest/load-first.v1" }

        /// `extra`: more plugins, each built as a file of its own; `links`: more names for the
        /// plugin of a kind (symlinks to its file).
        init(extra: [String: LayerKind] = [:], links: [String: LayerKind] = [:]) throws {
            var replacing: [LayerKind: String] = [:]
            for kind in LayerKind.allCases {
                replacing[kind] = try PluginBuilder.build(kind: kind, defines: [#"PF_TEST_LOAD_LOG="\#(build.file("loads"))""#],
                                                          into: build.path, name: "\(kind).so")
            }
            setup = SnapshotCommandTests.Setup(replacing: replacing)
            for (name, kind) in extra {
                let built = try PluginBuilder.build(kind: kind, defines: [#"PF_TEST_LOAD_LOG="\#(build.file("loads"))""#],
                                                    into: build.path, name: name)
                try FileManager.default.createSymbolicLink(atPath: setup.plugins + "/" + name, withDestinationPath: built)
            }
            for (name, kind) in links {
                try FileManager.default.createSymbolicLink(atPath: setup.plugins + "/" + name, withDestinationPath: replacing[kind]!)
            }
        }

        /// Takes a snapshot whose `slow` capture takes 200 ms, and returns it with the kinds in the
        /// order they were loaded.
        func snapshot(slow: LayerKind?, _ extra: [String] = []) throws -> (output: ProcessOutput, order: [String]) {
            try? FileManager.default.removeItem(atPath: log)
            let output = try setup.snapshot((slow.map { ["--set", "\($0).delay_ms=200"] } ?? []) + extra)
            let order = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            return (output, order)
        }

        var recorded: String? { try? String(contentsOfFile: hint, encoding: .utf8) }
    }

    static let nameOrder = ["cache", "effects", "model", "trace", "world"]

    @Test("the plugin whose capture took longest in the last snapshot is loaded first in the next")
    func longestFirst() throws {
        let plugins = try Logged()
        let first = try plugins.snapshot(slow: .world)
        #expect(first.output.status == 0, "\(first.output)")
        #expect(first.order == Self.nameOrder, "a new store: name order")
        #expect(plugins.recorded == "world.so\n")

        let second = try plugins.snapshot(slow: .effects)
        #expect(second.output.status == 0, "\(second.output)")
        #expect(second.order == ["world", "cache", "effects", "model", "trace"])
        #expect(plugins.recorded == "effects.so\n")

        let third = try plugins.snapshot(slow: .effects)
        #expect(third.output.status == 0, "\(third.output)")
        #expect(third.order == ["effects", "cache", "model", "trace", "world"])
        #expect(plugins.recorded == "effects.so\n")
    }

    @Test("a hint that is not one plugin file name, or not a regular file, is ignored and replaced", arguments: [
        "", "world.so", "../world.so\n", "nope.so\n", "world.so\nworld.so\n", String(repeating: "a", count: 600) + ".so\n",
        "world\n", ".so\n", "symlink", "fifo",
    ])
    func damagedHint(_ planted: String) throws {
        let plugins = try Logged()
        let ingest = plugins.setup.store + "/ingest"
        #expect(try pfhost("init", "--store", plugins.setup.store).status == 0)
        try FileManager.default.createDirectory(atPath: ingest, withIntermediateDirectories: true)
        let outside = plugins.build.file("outside")
        switch planted {
        case "symlink":
            // Read through, it would name world.so; written through, it would change a file outside the store.
            try Data("world.so\n".utf8).write(to: URL(fileURLWithPath: outside))
            try FileManager.default.createSymbolicLink(atPath: plugins.hint, withDestinationPath: outside)
        case "fifo":
            #expect(mkfifo(plugins.hint, 0o644) == 0)
        default:
            try Data(planted.utf8).write(to: URL(fileURLWithPath: plugins.hint))
        }
        let result = try plugins.snapshot(slow: .trace)
        #expect(result.output.status == 0, "\(result.output)")
        #expect(result.order == Self.nameOrder)
        #expect(plugins.recorded == "trace.so\n")
        var info = stat()
        #expect(lstat(plugins.hint, &info) == 0 && info.st_mode & S_IFMT == S_IFREG)
        if planted == "symlink" { #expect(try String(contentsOfFile: outside, encoding: .utf8) == "world.so\n") }
    }

    @Test("a hint the store cannot take (a directory in its place) costs nothing but the order")
    func unwritableHint() throws {
        let plugins = try Logged()
        #expect(try pfhost("init", "--store", plugins.setup.store).status == 0)
        try FileManager.default.createDirectory(atPath: plugins.hint, withIntermediateDirectories: true)
        let result = try plugins.snapshot(slow: .world)
        #expect(result.output.status == 0, "\(result.output)")
        #expect(result.output.stderr.isEmpty, "\(result.output)")
        #expect(result.order == Self.nameOrder)
        let ingest = try FileManager.default.contentsOfDirectory(atPath: plugins.setup.store + "/ingest")
        #expect(!ingest.contains { $0.hasSuffix(".tmp") }, "\(ingest)")
    }

    @Test("of two names for one plugin file the first by name is kept: a hint naming the other is not followed")
    func twoNamesForOneFile() throws {
        let plugins = try Logged(links: ["zworld.so": .world])
        #expect(try pfhost("init", "--store", plugins.setup.store).status == 0)
        try Data("zworld.so\n".utf8).write(to: URL(fileURLWithPath: plugins.hint))
        let result = try plugins.snapshot(slow: nil)
        #expect(result.output.status == 0, "\(result.output)")
        #expect(result.order == Self.nameOrder)
        let json = try plugins.setup.snapshot(["--json"])
        let value = try JSONParser.parse(Array(json.stdout.utf8.dropLast()))
        #expect(value["layers"]?["world"]?["file"] == .string(plugins.setup.plugins + "/world.so"), "\(json)")

        // The same with a second world plugin (a file of its own): the duplicate names the same two files.
        let duplicate = try Logged(extra: ["world2.so": .world], links: ["zworld.so": .world])
        #expect(try pfhost("init", "--store", duplicate.setup.store).status == 0)
        let without = try duplicate.snapshot(slow: nil)
        try Data("zworld.so\n".utf8).write(to: URL(fileURLWithPath: duplicate.hint))
        let with = try duplicate.snapshot(slow: nil)
        #expect(without.output.status == 2 && with.output.status == 2, "\(with.output)")
        #expect(with.output.stderr == without.output.stderr)
        #expect(with.output.stderr.contains("/world.so") && with.output.stderr.contains("/world2.so") && !with.output.stderr.contains("zworld"),
                "\(with.output)")
    }

    @Test("a refused set says nothing of the captures it started (a key one never read), whichever loads first")
    func refusedSetWarnsOfNothing() throws {
        let plugins = try Logged(extra: ["world2.so": .world])
        #expect(try pfhost("init", "--store", plugins.setup.store).status == 0)
        for hint in [nil, "world2.so"] {
            if let hint { try Data("\(hint)\n".utf8).write(to: URL(fileURLWithPath: plugins.hint)) }
            let result = try plugins.snapshot(slow: nil, ["--set", "world.typo=1"])
            #expect(result.output.status == 2, "\(result.output)")
            #expect(!result.output.stderr.contains("never read"), "\(result.output)")
            #expect(result.output.stderr.hasPrefix("pfhost: error: two plugins capture the world layer"), "\(result.output)")
        }
        // A sound set still says it.
        let sound = try Logged()
        let output = try sound.setup.snapshot(["--set", "world.typo=1"])
        #expect(output.status == 0 && output.stderr.contains("world.typo set but never read by plugin"), "\(output)")
    }

    @Test("a refused set reports the same, whichever plugin the hint loads first")
    func refusalsDoNotDependOnTheHint() throws {
        // A second model plugin, zmodel.so: the set has the model kind twice.
        let plugins = try Logged(extra: ["zmodel.so": .model])
        #expect(try pfhost("init", "--store", plugins.setup.store).status == 0)
        let without = try plugins.snapshot(slow: nil)
        #expect(without.output.status == 2, "\(without.output)")
        #expect(without.order == ["cache", "effects", "model", "trace", "world", "model"])
        try Data("zmodel.so\n".utf8).write(to: URL(fileURLWithPath: plugins.hint))
        let with = try plugins.snapshot(slow: nil)
        #expect(with.order == ["model", "cache", "effects", "model", "trace", "world"], "the hint was followed")
        #expect(with.output.status == without.output.status)
        #expect(with.output.stderr == without.output.stderr)
        #expect(with.output.stdout == without.output.stdout)
    }
}
