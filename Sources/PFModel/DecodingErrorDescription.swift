extension DecodingError {
    /// One line saying what is wrong and where, e.g. `missing key 'size' at blobs[2]`.
    public var summary: String {
        func path(_ context: Context) -> String {
            var text = ""
            for key in context.codingPath {
                if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
            }
            return text.isEmpty ? "the top level" : text
        }
        switch self {
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return "missing key '\(key.stringValue)'" + (context.codingPath.isEmpty ? "" : " in \(parent)")
        case .typeMismatch(let type, let context):
            return "\(path(context)) is not of type \(type)"
        case .valueNotFound(let type, let context):
            return "\(path(context)) is null, expected \(type)"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? context.debugDescription : "\(path(context)): \(context.debugDescription)"
        @unknown default:
            return "\(self)"
        }
    }
}

/// One line describing a failure to parse or decode JSON.
public func describeJSONError(_ error: any Error) -> String {
    if let decoding = error as? DecodingError { return decoding.summary }
    return "\(error)"
}
