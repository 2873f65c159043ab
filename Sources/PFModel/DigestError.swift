/// Why a string is not a pfhost digest.
public enum DigestError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No `algorithm:` prefix.
    case missingAlgorithm(String)
    /// An algorithm other than sha256.
    case unsupportedAlgorithm(String, String)
    /// The hex part does not have 64 characters.
    case wrongLength(Int, String)
    /// The hex part has upper-case digits.
    case upperCase(String)
    /// The hex part has a character that is not a hex digit.
    case notHex(String)

    public var description: String {
        switch self {
        case .missingAlgorithm(let text):
            "invalid digest '\(text)': expected 'sha256:<64 lowercase hex digits>'"
        case .unsupportedAlgorithm(let algorithm, let text):
            "invalid digest '\(text)': algorithm '\(algorithm)' is not supported, only sha256"
        case .wrongLength(let count, let text):
            "invalid digest '\(text)': \(count) hex digits, expected 64"
        case .upperCase(let text):
            "invalid digest '\(text)': hex digits must be lowercase"
        case .notHex(let text):
            "invalid digest '\(text)': not a hex string"
        }
    }
}
