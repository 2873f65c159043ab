import ArgumentParser
import PFStore
import Testing
@testable import pfhost

/// `pfhost snapshot`'s plain command lines are read without ArgumentParser
/// (``SnapshotInvocation/init(commandLine:)``): to exactly what ArgumentParser reads from them,
/// and nothing else is read at all.
@Suite("snapshot's command line read without ArgumentParser")
struct SnapshotCommandLineTests {
    /// What ArgumentParser makes of `pfhost snapshot ARGUMENTS`, or nil when it refuses them.
    static func parsed(_ arguments: [String]) -> SnapshotInvocation? {
        guard let command = try? PFHostCommand.parseAsRoot(["snapshot"] + arguments) as? SnapshotCommand else { return nil }
        return SnapshotInvocation(command)
    }

    static func read(_ arguments: [String]) -> SnapshotInvocation? {
        SnapshotInvocation(commandLine: arguments[...])
    }

    @Test("the command lines an agent runs are read as ArgumentParser reads them", arguments: [
        [],
        ["--plugins", "p", "--store", "s", "--config", "pfhost.json", "--tag", "agent"],
        ["--store=s", "--plugins=p", "--tag=agent", "--json"],
        ["--set", "world.root=/w", "--set", "trace.path=t.jsonl", "--parent", "agent~1", "--parent", "f90f891"],
        ["--agent-kind", "coder", "--agent-version", "1.2", "--agent-fingerprint", "abc", "--durability", "strict", "--timeout", "30"],
        ["--durability=none", "--timeout=+5", "--isolate", "-v", "-q", "--allow-insecure-plugins"],
        ["--verbose", "--progress", "--set=world.exclude=*.tmp,__pycache__"],
    ])
    func agentCommandLines(_ arguments: [String]) throws {
        let read = try #require(Self.read(arguments), "read without ArgumentParser")
        #expect(read == Self.parsed(arguments))
    }

    @Test("anything else is left to ArgumentParser", arguments: [
        ["--help"], ["-h"], ["--version"], ["help"], ["extra"], ["--"], ["--", "--json"],
        ["--nope"], ["-x"], ["-vq"], ["-v", "-v"], ["--json", "--json"], ["--json=true"],
        ["--store", "a", "--store", "b"], ["--store"], ["--store", "-v"], ["--store", ""], ["--store="],
        ["--timeout", "0"], ["--timeout", "-1"], ["--timeout=-1"], ["--timeout", "ten"], ["--timeout", "99999999999999999999"],
        ["--durability", "Strict"], ["--durability", "fast"], ["--progress", "--quiet"],
        ["-store", "s"], ["--Store", "s"], ["--experimental-dump-help"], ["--generate-completion-script", "bash"],
    ])
    func leftToArgumentParser(_ arguments: [String]) {
        #expect(Self.read(arguments) == nil)
    }

    @Test("on generated command lines, whatever is read is what ArgumentParser reads")
    func generatedCommandLines() {
        let names = [
            "--plugins", "--store", "--config", "--set", "--parent", "--tag", "--agent-kind", "--agent-version",
            "--agent-fingerprint", "--durability", "--timeout", "--allow-insecure-plugins", "--isolate", "--json",
            "-v", "--verbose", "--progress", "-q", "--quiet", "--help", "--", "-vq", "--nope", "-store",
        ]
        let values = [
            "a", "b/c", "", "-5", "5", "+5", "0", "07", "none", "batch", "strict", "Strict", "world.x=y", "--json",
            "snapshot", "é", " space", "=", "-", "x=y=z", "agent~2",
        ]
        var generator = ELFDynamicSectionTests.Generator(seed: 0x5EED)
        func pick<T>(_ from: [T]) -> T { from[Int(generator.next() % UInt64(from.count))] }
        var readCount = 0
        var generated = 0
        // ArgumentParser's parse is slow in a debug build: a few hundred lines it is compared on.
        while readCount < 300 {
            generated += 1
            var arguments: [String] = []
            for _ in 0..<Int(generator.next() % 7) {
                switch generator.next() % 8 {
                case 0: arguments.append(pick(values))
                case 1: arguments.append(pick(names) + "=" + pick(values))
                case 2, 3: arguments.append(pick(names))
                default: arguments += [pick(names), pick(values)]
                }
            }
            guard let read = Self.read(arguments) else { continue }
            readCount += 1
            let parsed = Self.parsed(arguments)
            #expect(read == parsed, "pfhost snapshot \(arguments)")
            if read != parsed { return }
        }
        // The generated lines are mostly ones pfhost leaves to ArgumentParser, but not all.
        #expect(generated < 20 * readCount, "\(readCount) of \(generated) read")
    }
}
