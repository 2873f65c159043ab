import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One run of a process: wall time, peak RSS and exit status (from `wait4`).
struct Measurement {
    let seconds: Double
    let peakRSSKiB: Int
    let status: Int32

    /// Runs `arguments[0]` (a path) with the rest as its arguments, stdout to /dev/null.
    ///
    /// Each run starts on a quiet disk: `sync(2)` first, untimed, so that no run pays for the
    /// write-back of what an earlier one (another tool's gigabyte, say) left dirty. With
    /// `PFBENCH_MEASURE` naming the `measure` helper (Benchmarks/measure.c, built by
    /// Benchmarks/run), the command runs under it and the peak RSS is the command's own; without
    /// it, the RSS never reads below pfbench's own (see measure.c).
    static func run(_ arguments: [String]) -> Measurement {
        sync()
        guard let helper = ProcessInfo.processInfo.environment["PFBENCH_MEASURE"], !helper.isEmpty else {
            return direct(arguments)
        }
        var pipe: [Int32] = [0, 0]
        guard Glibc.pipe(&pipe) == 0 else { fatalError("cannot make a pipe: \(String(cString: strerror(errno)))") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
        posix_spawn_file_actions_addclose(&actions, pipe[0])
        defer { posix_spawn_file_actions_destroy(&actions) }
        let argv = ([helper] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, helper, &actions, nil, argv, environ)
        close(pipe[1])
        guard spawned == 0 else { fatalError("cannot run \(helper): \(String(cString: strerror(spawned)))") }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 256)
        while case let n = read(pipe[0], &chunk, chunk.count), n > 0 { output += chunk[0..<n] }
        close(pipe[0])
        var helperStatus: Int32 = 0
        _ = waitpid(pid, &helperStatus, 0)
        let fields = String(decoding: output, as: UTF8.self).split(whereSeparator: \.isWhitespace)
        guard helperStatus == 0, fields.count == 3, let nanoseconds = Double(fields[0]), let rss = Int(fields[1]),
              let status = Int32(fields[2]) else {
            fatalError("\(helper) failed for \(arguments[0]) (status \(helperStatus))")
        }
        return Measurement(seconds: nanoseconds / 1e9, peakRSSKiB: rss, status: status)
    }

    /// Spawns the command straight from pfbench.
    private static func direct(_ arguments: [String]) -> Measurement {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let start = DispatchTime.now()
        let spawned = posix_spawn(&pid, arguments[0], &actions, nil, argv, environ)
        guard spawned == 0 else {
            fatalError("cannot run \(arguments[0]): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        var usage = rusage()
        _ = wait4(pid, &status, 0, &usage)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return Measurement(seconds: seconds, peakRSSKiB: usage.ru_maxrss, status: status)
    }
}

/// Median, min and max of several measurements.
struct Summary {
    let median: Double
    let min: Double
    let max: Double
    let peakRSSKiB: Int

    init(_ runs: [Measurement]) {
        precondition(runs.allSatisfy { $0.status == 0 }, "a measured process failed")
        let times = runs.map(\.seconds).sorted()
        median = times[times.count / 2]
        min = times.first!
        max = times.last!
        peakRSSKiB = runs.map(\.peakRSSKiB).max()!
    }

    func milliseconds(_ value: Double) -> String { String(format: "%.1f", value * 1000) }

    var timeText: String { "\(milliseconds(median)) ms (\(milliseconds(min))–\(milliseconds(max)))" }
}
