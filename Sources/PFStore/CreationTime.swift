import PFSystem

/// A snapshot's creation time as pfhost writes it, checked: RFC 3339 UTC with whole seconds
/// (`2026-11-27T20:25:44Z`), a real calendar date from 1970 through 9999 — exactly what
/// `Timestamp.format(secondsSinceEpoch:)` can produce.
///
/// A store is input like any other: a journal line or an annotation may hold anything, and what
/// does not pass is damage, never a sort key.
///
/// ```swift
/// CreationTime(parsing: "2026-11-27T20:25:44Z")?.seconds   // 1795811144
/// CreationTime(parsing: "99999-01-01T00:00:00Z")           // nil
/// ```
public struct CreationTime: Comparable, Hashable, Sendable {
    /// Seconds since 1970-01-01T00:00:00Z.
    public let seconds: Int64

    /// The time `text` says, or nil when it is not `YYYY-MM-DDTHH:MM:SSZ` with a real date and
    /// time from 1970 through 9999.
    public init?(parsing text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"),
              bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"), bytes[19] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for byte in bytes[range] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              (1970...9999).contains(year), (1...12).contains(month), hour < 24, minute < 60, second < 60 else { return nil }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let lengths: [Int64] = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...lengths[Int(month) - 1]).contains(day) else { return nil }
        // Days from 1970-01-01 (Howard Hinnant's days_from_civil); every term is small, no overflow.
        let y = month <= 2 ? year - 1 : year
        let era = y / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        seconds = days * 86_400 + hour * 3_600 + minute * 60 + second
    }

    /// Now, from the system clock.
    public static func now() -> CreationTime {
        CreationTime(seconds: SystemCalls.wallClockSeconds())
    }

    private init(seconds: Int64) { self.seconds = seconds }

    /// Whether this time is more than a day after `now`: no clock skew explains it, so it is
    /// either forged or set on purpose (`SOURCE_DATE_EPOCH`), and no retention rule may rank by it.
    public func isInTheFuture(of now: CreationTime) -> Bool {
        seconds > now.seconds + 86_400
    }

    public static func < (a: CreationTime, b: CreationTime) -> Bool { a.seconds < b.seconds }

    /// `text` when it is a creation time, else the empty string (unknown): what a journal line
    /// records for a snapshot whose document (pulled, or written by another tool) says something else.
    static func recordable(_ text: String) -> String {
        CreationTime(parsing: text) == nil ? "" : text
    }

    /// Why `text` is not a creation time pfhost accepts.
    static func problem(_ text: String) -> String {
        "created '\(text)' is not an RFC 3339 UTC time with whole seconds from 1970 through 9999 (YYYY-MM-DDTHH:MM:SSZ)"
    }
}
