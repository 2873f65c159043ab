#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Creation times as pfhost writes them: RFC 3339, UTC, whole seconds (`2026-11-27T20:25:44Z`).
public enum Timestamp {
    /// The creation time for a new snapshot: `SOURCE_DATE_EPOCH` (seconds since 1970) when
    /// set in `environment`, so that identical state gives an identical content id; else now.
    ///
    /// - Throws: ``TimestampError`` when `SOURCE_DATE_EPOCH` is set but not a whole number.
    public static func forNewSnapshot(environment: [String: String]) throws(TimestampError) -> String {
        if let epoch = environment["SOURCE_DATE_EPOCH"] {
            guard let seconds = Int64(epoch), seconds >= 0 else { throw TimestampError(value: epoch) }
            return format(secondsSinceEpoch: seconds)
        }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return format(secondsSinceEpoch: Int64(now.tv_sec))
    }

    /// `seconds` since 1970 as RFC 3339 UTC.
    public static func format(secondsSinceEpoch seconds: Int64) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let year = String(parts.tm_year + 1900)
        return "\(year)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}
