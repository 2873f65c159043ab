import Logging

/// The log handler of a capture process: every message goes to pfhost as a
/// ``CaptureMessage/log(level:message:metadata:)``, which logs it as if it were its own.
struct MessageLogHandler: LogHandler {
    let channel: MessageChannel
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(channel: MessageChannel, logLevel: Logger.Level) {
        self.channel = channel
        self.logLevel = logLevel
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        channel.send(.log(level: event.level, message: event.message.description, metadata: merged.mapValues(\.description)))
    }
}
