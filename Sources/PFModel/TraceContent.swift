/// What a trace layer records: the conversation blob and its size in messages.
public struct TraceContent: LayerContent {
    public static let kind = LayerKind.trace

    /// The blob holding the conversation (JSON Lines of chat messages).
    public var messages: Digest
    /// Messages in the conversation.
    public var messageCount: Int
    /// The id of the last message, when messages carry ids.
    public var lastMessageId: String?

    /// A trace layer's content.
    public init(messages: Digest, messageCount: Int, lastMessageId: String?) {
        self.messages = messages
        self.messageCount = messageCount
        self.lastMessageId = lastMessageId
    }

    enum CodingKeys: String, CodingKey {
        case messages, messageCount = "message_count", lastMessageId = "last_message_id"
    }
}

extension TraceContent {
    /// The blobs the content refers to: the conversation.
    public var blobReferences: [Digest] { [messages] }
}
