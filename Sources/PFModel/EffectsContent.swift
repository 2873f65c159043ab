/// What an effects layer records: the side-effect ledger and the state of its hash chain.
public struct EffectsContent: LayerContent {
    public static let kind = LayerKind.effects

    /// The blob holding the ledger (JSON Lines).
    public var ledger: Digest
    /// Entries in the ledger.
    public var entryCount: Int
    /// The head of the hash chain: the SHA-256 of the last line, as 64 bare hex digits (a
    /// `sha256:` string in a layer always names one of its blobs); nil for an empty ledger.
    public var head: String?
    /// Entries whose status is `pending`: effects started but not known to have happened.
    public var pendingCount: Int

    /// An effects layer's content.
    public init(ledger: Digest, entryCount: Int, head: String?, pendingCount: Int) {
        self.ledger = ledger
        self.entryCount = entryCount
        self.head = head
        self.pendingCount = pendingCount
    }

    enum CodingKeys: String, CodingKey {
        case ledger, entryCount = "entry_count", head, pendingCount = "pending_count"
    }
}

extension EffectsContent {
    /// The blobs the content refers to: the ledger.
    public var blobReferences: [Digest] { [ledger] }
}
