/// Finds a private key in bytes that arrive in pieces (a file read a chunk at a time), as
/// ``SecretRedactor/containsPrivateKey(_:)`` finds one in bytes held whole, including a key whose
/// header is split across two pieces.
///
/// Each piece is scanned as it is, and the seam with the previous one is scanned again with
/// ``overlap`` bytes on each side: every marker `containsPrivateKey` recognises (a PEM or SSH2
/// header with a label of up to 80 bytes, a PuTTY first line) is shorter than that, so one that
/// crosses a seam lies whole within the seam's window. Nothing but the last ``overlap`` bytes is kept.
///
/// ```swift
/// var scanner = PrivateKeyScanner()
/// while let piece = next() {
///     if scanner.scan(piece) { /* leave the file out */ }
/// }
/// ```
public struct PrivateKeyScanner: Sendable {
    /// How many bytes of a piece are kept to scan the seam with the next.
    public static let overlap = 256

    /// The last bytes seen, at most ``overlap``.
    private var tail: [UInt8] = []

    /// Whether a private key was found in what was scanned so far.
    public private(set) var found = false

    /// A scanner that has seen nothing.
    public init() {}

    /// Scans the next piece; returns ``found``.
    @discardableResult
    public mutating func scan(_ piece: UnsafeRawBufferPointer) -> Bool {
        guard !found, piece.count > 0 else { return found }
        if !tail.isEmpty {
            var seam = tail
            seam.append(contentsOf: UnsafeRawBufferPointer(rebasing: piece[0..<min(piece.count, Self.overlap)]))
            found = seam.withUnsafeBytes { SecretRedactor.containsPrivateKey($0) }
        }
        if !found { found = SecretRedactor.containsPrivateKey(piece) }
        if piece.count >= Self.overlap {
            tail = Array(UnsafeRawBufferPointer(rebasing: piece[(piece.count - Self.overlap)...]))
        } else {
            tail.append(contentsOf: piece)
            if tail.count > Self.overlap { tail.removeFirst(tail.count - Self.overlap) }
        }
        return found
    }

    /// Scans the next piece; returns ``found``.
    @discardableResult
    public mutating func scan(_ piece: [UInt8]) -> Bool {
        piece.withUnsafeBytes { scan($0) }
    }
}
