import ArgumentParser
import PFSystem
#if canImport(Glibc)
import Glibc
#endif

/// `--progress` and `--quiet`, for every command that can show progress (snapshot, restore, and
/// any long command that adds this group): by default progress is drawn only when stderr is a
/// terminal.
struct ProgressOptions: ParsableArguments {
    @Flag(help: "Show progress on stderr even when it is not a terminal (as whole lines).")
    var progress = false

    @Flag(name: .shortAndLong, help: "Show no progress, even on a terminal.")
    var quiet = false

    func validate() throws {
        if progress && quiet { throw ValidationError("give --progress or --quiet, not both") }
    }

    /// The progress display these options ask for, or nil for none.
    func line() -> ProgressLine? { Self.line(progress: progress, quiet: quiet) }

    /// The progress display `--progress` and `--quiet` ask for, or nil for none.
    static func line(progress: Bool, quiet: Bool) -> ProgressLine? {
        let terminal = SystemCalls.isTerminal(STDERR_FILENO)
        guard !quiet, progress || terminal else { return nil }
        return ProgressLine(inPlace: terminal)
    }
}
