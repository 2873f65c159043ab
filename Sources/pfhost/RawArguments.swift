import PFModel
import PFSystem
#if canImport(Glibc)
import Glibc
#endif

/// The command line as the kernel passed it, before Swift decoded it as UTF-8.
enum RawArguments {
    /// The first argument that is not valid UTF-8, with its position (1 is the first after the
    /// program's name), or nil. Swift replaces such bytes with U+FFFD, so a path or a value holding
    /// them would silently name something else: pfhost refuses them instead.
    static func firstInvalid() -> (position: Int, bytes: [UInt8])? {
        for position in 1..<Int(CommandLine.argc) {
            guard let argument = CommandLine.unsafeArgv[position] else { continue }
            let bytes = Array(UnsafeRawBufferPointer(start: argument, count: strlen(argument)))
            if String(validating: bytes, as: UTF8.self) == nil { return (position, bytes) }
        }
        return nil
    }

    /// `arguments` (without the program's name) with a leading `--store DIR` or `--store=DIR`
    /// moved after the subcommand that follows it: `pfhost --store S list` is `pfhost list --store
    /// S`, as restic and git users type it. Anything else is left as it is.
    static func storeAfterSubcommand(_ arguments: [String]) -> [String] {
        guard let first = arguments.first else { return arguments }
        let option: [String]
        if first == "--store", arguments.count >= 3 {
            option = Array(arguments[0...1])
        } else if first.hasPrefix("--store="), arguments.count >= 2 {
            option = [first]
        } else {
            return arguments
        }
        let rest = arguments.dropFirst(option.count)
        guard let subcommand = rest.first, !subcommand.hasPrefix("-") else { return arguments }
        return [subcommand] + option + rest.dropFirst()
    }

    /// pfhost's own environment variables that name directories, read as UTF-8 text like the
    /// arguments (the registry's are checked where push and pull read them).
    static let environmentVariables = ["PFHOST_STORE", "PFHOST_PLUGINS"]

    /// The first of ``environmentVariables`` whose value is not valid UTF-8, with its bytes, or nil:
    /// decoded, it would name another store or plugin directory.
    static func invalidEnvironment() -> (name: String, bytes: [UInt8])? {
        for name in environmentVariables {
            guard let bytes = SystemCalls.environmentBytes(name) else { continue }
            if String(validating: bytes, as: UTF8.self) == nil { return (name, bytes) }
        }
        return nil
    }

    /// The working directory's path when it is not valid UTF-8, or nil. pfhost makes relative
    /// paths absolute against it (the default store, `--to`, `--config`), and the path Swift decodes
    /// from such bytes names another directory: pfhost refuses to run there instead.
    static func invalidWorkingDirectory() -> [UInt8]? {
        guard let pointer = getcwd(nil, 0) else { return nil }
        defer { free(pointer) }
        let bytes = Array(UnsafeRawBufferPointer(start: pointer, count: strlen(pointer)))
        return String(validating: bytes, as: UTF8.self) == nil ? bytes : nil
    }
}
