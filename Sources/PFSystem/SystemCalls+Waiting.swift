#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension SystemCalls {
    /// `nanosleep(2)` for `milliseconds`, resumed after a signal: the backoff between retries of a
    /// registry request.
    public func sleep(milliseconds: Int) {
        guard milliseconds > 0 else { return }
        var delay = Glibc.timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
        var remaining = Glibc.timespec()
        while nanosleep(&delay, &remaining) != 0 && errno == EINTR { delay = remaining }
    }

    /// `getenv(3)` as the process received it: the value's bytes (not decoded), nil when unset.
    public static func environmentBytes(_ name: String) -> [UInt8]? {
        guard let value = getenv(name) else { return nil }
        return Array(UnsafeRawBufferPointer(start: value, count: strlen(value)))
    }

    /// `getenv(3)`: the variable's value, nil when it is unset or empty.
    public static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }

    /// `clock_gettime(CLOCK_REALTIME)`: whole seconds since 1970, for judging whether a time a
    /// store records lies in the future.
    public static func wallClockSeconds() -> Int64 {
        var time = Glibc.timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec)
    }
}
