import Foundation
@_exported import PFTestSupport
import PFModel

/// The repository's root, found from this file's path.
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// The directory holding the built products (`pfhost` and the test bundle).
let productsDirectory: String = {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return URL(fileURLWithPath: exe).deletingLastPathComponent().path
}()

/// What a process printed and how it ended.
struct ProcessOutput: CustomStringConvertible {
    let status: Int32
    let signalled: Bool
    let stdout: String
    let stderr: String

    var description: String { "status \(status)\(signalled ? " (signal)" : "")\nstdout: \(stdout)\nstderr: \(stderr)" }
}

/// Runs a program to completion, capturing its output.
func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], currentDirectory: String? = nil) throws -> ProcessOutput {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env.removeValue(forKey: "PFHOST_STORE")
    env.removeValue(forKey: "PFHOST_PLUGINS")
    env.removeValue(forKey: "SOURCE_DATE_EPOCH")
    for (key, value) in environment { env[key] = value }
    process.environment = env
    if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // Read both pipes to the end before waiting, so a chatty child never blocks on a full pipe.
    let group = DispatchGroup()
    nonisolated(unsafe) var errData = Data()
    group.enter()
    DispatchQueue.global().async {
        errData = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return ProcessOutput(
        status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
        stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
}

/// Runs the built `pfhost` binary.
func pfhost(_ arguments: String..., environment: [String: String] = [:]) throws -> ProcessOutput {
    try run(productsDirectory + "/pfhost", arguments, environment: environment)
}

/// Runs the built `pfhost` binary with `arguments`.
func pfhost(_ arguments: [String], environment: [String: String] = [:], currentDirectory: String? = nil) throws -> ProcessOutput {
    try run(productsDirectory + "/pfhost", arguments, environment: environment, currentDirectory: currentDirectory)
}

/// Builds test plugins from `Tests/Fixtures/test_plugin.c` with the system C compiler, the
/// way a third party would: only the SDK header, hidden visibility, one exported symbol.
enum PluginBuilder {
    /// The five well-behaved plugins, built once per test process.
    static let standard: [LayerKind: String] = {
        let dir = TemporaryDirectory()
        // Kept for the life of the test process.
        _ = Unmanaged.passRetained(dir)
        var built: [LayerKind: String] = [:]
        for kind in LayerKind.allCases {
            built[kind] = try! build(kind: kind, into: dir.path, name: "\(kind).so")
        }
        return built
    }()

    /// Compiles one plugin of `kind` with extra `-D` definitions and extra linker arguments
    /// (`link`, after the source: `-L`, `-l`, `-Wl,…`).
    /// `header` is the directory holding the `pf_plugin.h` to build against (the SDK's by default).
    /// `source` is the C file under `Tests/Fixtures/`.
    static func build(kind: LayerKind, defines: [String] = [], header: String = repositoryRoot + "/plugin-sdk/include",
                      link: [String] = [], source: String = "test_plugin.c", into directory: String, name: String) throws -> String {
        let output = directory + "/" + name
        let arguments = ["-shared", "-fPIC", "-fvisibility=hidden", "-Wall", "-Werror",
                         "-I", header, "-DPF_KIND=\(kind.abiValue)"]
            + defines.map { "-D" + $0 } + ["-o", output, repositoryRoot + "/Tests/Fixtures/" + source, "-lpthread"] + link
        let result = try run("/usr/bin/cc", arguments)
        guard result.status == 0 else { throw BuildFailure(output: result.description) }
        // The host refuses group- or world-writable plugins: make the mode not depend on the umask.
        guard chmod(output, 0o755) == 0 else { throw BuildFailure(output: "chmod 0755 \(output) failed") }
        return output
    }

    /// A directory with the five standard plugins (symlinked), where `replace` swaps some out.
    static func directory(in parent: TemporaryDirectory, replacing replace: [LayerKind: String] = [:]) -> String {
        let dir = parent.directory("plugins")
        for kind in LayerKind.allCases {
            let target = replace[kind] ?? standard[kind]!
            try? FileManager.default.createSymbolicLink(atPath: dir + "/\(kind).so", withDestinationPath: target)
        }
        return dir
    }

    struct BuildFailure: Error, CustomStringConvertible {
        let output: String
        var description: String { "cc failed: \(output)" }
    }
}

extension JSONValue {
    /// The items of an array, or nil.
    var items: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }
}
