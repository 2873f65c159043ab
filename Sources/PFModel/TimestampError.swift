/// A `SOURCE_DATE_EPOCH` that is not a whole number of seconds.
public struct TimestampError: Error, Sendable, CustomStringConvertible {
    /// The value found.
    public let value: String

    public var description: String {
        "SOURCE_DATE_EPOCH='\(value)' is not a whole number of seconds from 1970 to 9999-12-31 (0 to 253402300799); unset it or fix it"
    }
}
