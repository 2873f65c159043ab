import PFSystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A regular file's stat data as text, `size=… mtime_ns=… ctime_ns=… inode=…`, kept in a layer's
/// annotations so that the next capture can tell from one `stat` that the file is still what the
/// layer was captured from, without reading it.
///
/// Stat data vouches for content only when no write could have left it as it was. A write in the
/// same timestamp tick as the capture would not change mtime or ctime (git's "racy clean"
/// problem), so ``settled(_:now:racyWindow:)`` gives a record only for a file whose mtime and ctime
/// are at least `racyWindow` older than the capture: any later write then shows. A file replaced by
/// another (rename) has another inode; a change of mode or owner moves ctime.
///
/// ```swift
/// if parent.annotations[key] == FileStatRecord.of(file.status) { /* the parent's bytes */ }
/// annotations[key] = FileStatRecord.settled(file.status, now: captureStart)
/// ```
public enum FileStatRecord {
    /// How old a file's timestamps must be for its stat data to be trusted: 2 s, as the world
    /// plugin's `racy_window_ms` and the host's stat cache (enough for filesystems whose
    /// timestamps are coarse).
    public static let defaultRacyWindow: Int64 = 2_000_000_000

    /// The record of `info`, or nil when it is not a regular file or its timestamps do not fit
    /// 64-bit nanoseconds.
    public static func of(_ info: stat) -> String? {
        guard info.st_mode & S_IFMT == S_IFREG, let mtime = nanoseconds(info.st_mtim), let ctime = nanoseconds(info.st_ctim) else {
            return nil
        }
        return "size=\(info.st_size) mtime_ns=\(mtime) ctime_ns=\(ctime) inode=\(info.st_ino)"
    }

    /// The record of the regular file at `path` (symlinks followed), or nil.
    public static func of(path: String) -> String? {
        guard let info = try? SystemCalls().status(path) else { return nil }
        return of(info)
    }

    /// The record of `info` when its mtime and ctime are both at least `racyWindow` older than
    /// `now` (nanoseconds since the epoch, taken before the file was read); nil otherwise.
    public static func settled(_ info: stat, now: Int64, racyWindow: Int64 = defaultRacyWindow) -> String? {
        guard let mtime = nanoseconds(info.st_mtim), let ctime = nanoseconds(info.st_ctim) else { return nil }
        let (age, overflow) = now.subtractingReportingOverflow(max(mtime, ctime))
        guard !overflow, age >= racyWindow else { return nil }
        return of(info)
    }

    /// The settled record of `file` as it was opened, when it has not changed since (it was read
    /// whole as that): what a capture that began at `captureStart` keeps for the next one.
    public static func settled(_ file: ReadableFile, captureStart: Int64, racyWindow: Int64 = defaultRacyWindow) -> String? {
        file.changedSinceOpened ? nil : settled(file.status, now: captureStart, racyWindow: racyWindow)
    }

    /// The time now, in nanoseconds since the epoch (the clock file timestamps are taken from).
    public static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    private static func nanoseconds(_ time: timespec) -> Int64? {
        let (seconds, overflow) = Int64(time.tv_sec).multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return nil }
        let (total, carry) = seconds.addingReportingOverflow(Int64(time.tv_nsec))
        return carry ? nil : total
    }
}
