import Logging
import PFModel

/// What a capture process (`pfhost capture-plugin`, behind `pfhost snapshot --isolate`) tells
/// the pfhost that started it: one canonical JSON object per line on its stdout.
///
/// ```
/// {"id":"org.example.world","kind":"world","type":"plugin",…}   loaded, the plugin's identity
/// {"reason":"…","type":"refused"}                                not loaded
/// {"level":"warning","message":"…","metadata":{…},"type":"log"}  a log message
/// {"done":3,"total":10,"type":"progress"}                        progress
/// {"bytes":1048576,"type":"bytes"}                               bytes stored since the last such message
/// {"capture_thread":true,"message":"…","type":"exit"}            exit() during capture
/// {"layer":"<base64>","milliseconds":12,"type":"layer"}          the layer JSON, blobs flushed
/// {"message":"…","milliseconds":12,"type":"failed"}              why the capture failed
/// ```
enum CaptureMessage: Equatable, Sendable {
    case plugin(kind: LayerKind, id: String, version: String, description: String?, abiMajor: UInt32, abiMinor: UInt32,
                settings: [DeclaredSetting]?, buildIdentity: String?)
    case refused(reason: String)
    case log(level: Logger.Level, message: String, metadata: [String: String])
    case progress(done: UInt64, total: UInt64)
    case bytes(UInt64)
    case exit(onCaptureThread: Bool, message: String)
    case layer([UInt8], milliseconds: Int64)
    case failed(message: String, milliseconds: Int64)

    /// The message as one line, newline included.
    var line: [UInt8] {
        let fields: [String: JSONValue] = switch self {
        case .plugin(let kind, let id, let version, let description, let major, let minor, let settings, let buildIdentity):
            ["type": .string("plugin"), "kind": .string(kind.rawValue), "id": .string(id), "version": .string(version),
             "description": description.map { .string($0) } ?? .null, "abi_major": .int(Int64(major)), "abi_minor": .int(Int64(minor)),
             "settings": settings.map { .array($0.map(\.json)) } ?? .null, "build_identity": buildIdentity.map { .string($0) } ?? .null]
        case .refused(let reason):
            ["type": .string("refused"), "reason": .string(reason)]
        case .log(let level, let message, let metadata):
            ["type": .string("log"), "level": .string(level.rawValue), "message": .string(message), "metadata": .object(metadata.mapValues { .string($0) })]
        case .progress(let done, let total):
            ["type": .string("progress"), "done": .int(Int64(clamping: done)), "total": .int(Int64(clamping: total))]
        case .bytes(let count):
            ["type": .string("bytes"), "bytes": .int(Int64(clamping: count))]
        case .exit(let onCaptureThread, let message):
            ["type": .string("exit"), "capture_thread": .bool(onCaptureThread), "message": .string(message)]
        case .layer(let bytes, let milliseconds):
            ["type": .string("layer"), "layer": .string(Base64.encode(bytes)), "milliseconds": .int(milliseconds)]
        case .failed(let message, let milliseconds):
            ["type": .string("failed"), "message": .string(message), "milliseconds": .int(milliseconds)]
        }
        return CanonicalJSON.encode(.object(fields)) + [0x0a]
    }

    /// The message in `line` (without its newline), or nil when it is not one.
    init?(line: some Collection<UInt8>) {
        guard let value = try? JSONParser.parse(line), let type = value["type"]?.stringValue else { return nil }
        func int(_ key: String) -> Int64? { if case .int(let number)? = value[key] { number } else { nil } }
        func string(_ key: String) -> String? { value[key]?.stringValue }
        switch type {
        case "plugin":
            guard let kind = string("kind").flatMap(LayerKind.init(rawValue:)), let id = string("id"), let version = string("version"),
                  let major = int("abi_major").flatMap(UInt32.init(exactly:)), let minor = int("abi_minor").flatMap(UInt32.init(exactly:))
            else { return nil }
            var settings: [DeclaredSetting]?
            if case .array(let items)? = value["settings"] {
                settings = items.compactMap(DeclaredSetting.init(json:))
                guard settings?.count == items.count else { return nil }
            }
            self = .plugin(kind: kind, id: id, version: version, description: string("description"), abiMajor: major, abiMinor: minor,
                           settings: settings, buildIdentity: string("build_identity"))
        case "refused":
            guard let reason = string("reason") else { return nil }
            self = .refused(reason: reason)
        case "log":
            guard let level = string("level").flatMap(Logger.Level.init(rawValue:)), let message = string("message") else { return nil }
            self = .log(level: level, message: message, metadata: (value["metadata"]?.objectValue ?? [:]).compactMapValues(\.stringValue))
        case "progress":
            guard let done = int("done"), let total = int("total"), done >= 0, total >= 0 else { return nil }
            self = .progress(done: UInt64(done), total: UInt64(total))
        case "bytes":
            guard let count = int("bytes"), count >= 0 else { return nil }
            self = .bytes(UInt64(count))
        case "exit":
            guard case .bool(let onCaptureThread)? = value["capture_thread"], let message = string("message") else { return nil }
            self = .exit(onCaptureThread: onCaptureThread, message: message)
        case "layer":
            guard let bytes = string("layer").flatMap(Base64.decode), let milliseconds = int("milliseconds") else { return nil }
            self = .layer(bytes, milliseconds: milliseconds)
        case "failed":
            guard let message = string("message"), let milliseconds = int("milliseconds") else { return nil }
            self = .failed(message: message, milliseconds: milliseconds)
        default:
            return nil
        }
    }
}
