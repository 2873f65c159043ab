import PFModel

/// One thing wrong in a store, as `pfhost verify` reports it.
public struct VerificationProblem: Hashable, Sendable, CustomStringConvertible {
    /// The snapshot affected, when the problem belongs to one.
    public let snapshot: Digest?
    /// The file at fault.
    public let file: String
    /// What is wrong.
    public let message: String

    public var description: String {
        let prefix = snapshot.map { "snapshot \($0.hex.prefix(16)): " } ?? ""
        return "\(prefix)\(file): \(message)"
    }
}
