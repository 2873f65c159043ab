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
    /// write-back of what an earlier one (another tool's gigabyte, say) left dirty.
    static func run(_ arguments: [String]) -> Measurement {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        sync()
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
