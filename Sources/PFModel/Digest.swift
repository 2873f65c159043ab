/// A content digest in OCI form: `sha256:` followed by 64 lowercase hex digits.
///
/// Only SHA-256 is accepted: every blob in a pfhost store is named by it.
///
/// ```swift
/// let digest = try Digest(parsing: "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
/// print(digest.hex)   // 2cf24dba…
/// ```
public struct Digest: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The 64 lowercase hex digits.
    public let hex: String

    /// The digest whose raw 32 bytes are `bytes`.
    public init(sha256 bytes: [UInt8]) {
        precondition(bytes.count == 32, "a SHA-256 digest has 32 bytes")
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(64)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        hex = String(decoding: text, as: UTF8.self)
    }

    /// Parses `sha256:<64 lowercase hex>`.
    ///
    /// - Throws: ``DigestError`` naming what is wrong: another algorithm, upper-case hex,
    ///   a wrong length or a non-hex character.
    public init(parsing text: String) throws(DigestError) {
        guard let colon = text.firstIndex(of: ":") else { throw .missingAlgorithm(text) }
        let algorithm = text[..<colon]
        guard algorithm == "sha256" else { throw .unsupportedAlgorithm(String(algorithm), text) }
        let hex = text[text.index(after: colon)...]
        guard hex.utf8.count == 64 else { throw .wrongLength(hex.utf8.count, text) }
        for byte in hex.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"): continue
            case UInt8(ascii: "A")...UInt8(ascii: "F"): throw .upperCase(text)
            default: throw .notHex(text)
            }
        }
        self.hex = String(hex)
    }

    /// Parses a bare 64-digit lowercase hex string (a blob's file name).
    public init(hex: String) throws(DigestError) {
        try self.init(parsing: "sha256:" + hex)
    }

    /// The SHA-256 digest of `bytes`.
    public static func of<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> Digest {
        let hasher = SHA256Hasher()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// `sha256:<hex>`.
    public var description: String { "sha256:" + hex }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.hex < rhs.hex }
}

extension Digest: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(parsing: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
