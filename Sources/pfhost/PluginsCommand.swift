import ArgumentParser
import PFHost
import PFModel

/// `pfhost plugins`: what the host makes of each `.so` in a directory.
struct PluginsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins",
        abstract: "List the plugins in a directory, whether each would be used, skipped or refused and why, whether it can restore, and the settings each declares.",
        discussion: "Exits 2 when any file would be refused or the directory does not hold exactly one plugin per layer.")

    /// The `"schema"` of `--json`'s output: bumped when a field changes meaning or goes away.
    static let schema = "pfhost.plugins/1"

    /// Why a `.so` without the entry symbol is left aside.
    static let skipReason = "not a plugin: it does not export \(PluginABI.entrySymbol) (a library, never loaded)"

    @OptionGroup var pluginsOptions: PluginsOptions

    @Flag(help: "Print the rows as JSON.")
    var json = false

    /// `settings of FILE (ID):` and one line per setting, or that it declares none.
    static func printSettings(of plugin: LoadedPlugin) {
        guard let settings = plugin.settings else {
            print("settings of \(DisplayText.escaped(plugin.file)): none declared (ABI \(plugin.abiMajor).\(plugin.abiMinor)): every \(plugin.kind).KEY is passed unchecked")
            return
        }
        print("settings of \(DisplayText.escaped(plugin.file)):")
        let width = settings.map { "\(plugin.kind).\($0.key)".count }.max() ?? 0
        for setting in settings {
            var traits = [setting.type.rawValue]
            if setting.required { traits.append("required") }
            if let value = setting.defaultValue { traits.append("default \(DisplayText.escaped(value))") }
            // A plugin's own words reach the terminal escaped: no control sequence, no forged line.
            print("  \(Formatting.pad("\(plugin.kind).\(DisplayText.escaped(setting.key))", width))  \(traits.joined(separator: ", ")): \(DisplayText.escaped(setting.help))")
        }
    }

    func run() throws {
        let directory = try pluginsOptions.directory()
        let candidates: [PluginLoader.Candidate]
        // A plugin whose constructor never returns is named after 600 s, as check-plugin's worker is.
        ExitGuard.shared.setConsequence(nil)
        let loadDeadline = LoadDeadline(timeout: .seconds(600))
        do {
            candidates = try PluginLoader.candidates(in: directory, allowInsecurePlugins: pluginsOptions.allowInsecurePlugins)
        } catch {
            loadDeadline.met()
            throw fail(error, ExitStatus.pluginFailure)
        }
        loadDeadline.met()
        var setProblem: String?
        do { _ = try PluginLoader.assemble(candidates, directory: directory) } catch {
            if case .refused = error {} else { setProblem = error.description }
        }
        if json {
            let rows: [JSONValue] = candidates.map { candidate in
                switch candidate.result {
                case .success(let plugin):
                    return .object([
                        "file": .string(plugin.file), "id": .string(plugin.id), "version": .string(plugin.version),
                        "kind": .string(plugin.kind.rawValue), "abi": .string("\(plugin.abiMajor).\(plugin.abiMinor)"),
                        "restore": plugin.restoreRefusal.map { .string("no: \($0)") } ?? .string("yes"),
                        "status": .string("ok"),
                        "settings": plugin.settings.map { .array($0.map(\.json)) } ?? .null,
                        "build_identity": plugin.buildIdentity.map { .string($0) } ?? .null,
                    ])
                case .failure(let refusal):
                    return .object(["file": .string(candidate.file), "status": .string(refusal.isSkipped ? "skipped" : "refused"),
                                    "reason": .string(refusal.isSkipped ? Self.skipReason : refusal.reason)])
                }
            }
            var output: [String: JSONValue] = ["schema": .string(Self.schema), "plugins": .array(rows)]
            output["problem"] = setProblem.map { .string($0) } ?? .null
            print(String(decoding: CanonicalJSON.encode(.object(output)), as: UTF8.self))
        } else {
            let header = ["FILE", "ID", "VERSION", "KIND", "ABI", "RESTORE", "STATUS"]
            var rows = [header]
            for candidate in candidates {
                switch candidate.result {
                case .success(let plugin):
                    rows.append([plugin.file, plugin.id, plugin.version, plugin.kind.rawValue, "\(plugin.abiMajor).\(plugin.abiMinor)",
                                 plugin.canRestore ? "yes" : "no", "ok"])
                case .failure(let refusal):
                    rows.append([candidate.file, "-", "-", "-", "-", "-",
                                 refusal.isSkipped ? "skipped: " + Self.skipReason : "refused: " + refusal.reason])
                }
            }
            // File names and refusal reasons reach the terminal escaped: no control sequence, no forged row.
            rows = rows.map { $0.map(DisplayText.escaped) }
            let widths = (0..<header.count - 1).map { column in rows.map { $0[column].count }.max()! }
            for row in rows {
                print(row.enumerated().map { $0.offset < widths.count ? Formatting.pad($0.element, widths[$0.offset]) : $0.element }
                    .joined(separator: "  "))
            }
            for case .success(let plugin) in candidates.map(\.result) { Self.printSettings(of: plugin) }
            if let setProblem { print("problem: \(DisplayText.escaped(setProblem))") }
            for case .success(let plugin) in candidates.map(\.result) {
                if let refusal = plugin.restoreRefusal { print(DisplayText.escaped("cannot restore: \(plugin.file) \(refusal)")) }
            }
        }
        try flushStandardOutput()
        let refused = candidates.contains { if case .failure = $0.result { !$0.isSkipped } else { false } }
        if refused || setProblem != nil { throw ExitStatus.pluginFailure }
    }
}
