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
    /// - Throws: ``TimestampError`` when `SOURCE_DATE_EPOCH` is set but not a whole number of
    ///   seconds from 1970 to the end of year 9999 (RFC 3339 has four-digit years).
    public static func forNewSnapshot(environment: [String: String]) throws(TimestampError) -> String {
        if let epoch = environment["SOURCE_DATE_EPOCH"] {
            guard let seconds = Int64(epoch), (0...latest).contains(seconds) else { throw TimestampError(value: epoch) }
            return format(secondsSinceEpoch: seconds)
        }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return format(secondsSinceEpoch: Int64(now.tv_sec))
    }

    /// 9999-12-31T23:59:59Z, the last second RFC 3339 can write.
    public static let latest: Int64 = 253_402_300_799

    /// `seconds` since 1970 (0 through ``latest``) as RFC 3339 UTC.
    public static func format(secondsSinceEpoch seconds: Int64) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let year = String(parts.tm_year + 1900)
        return "\(year)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}
