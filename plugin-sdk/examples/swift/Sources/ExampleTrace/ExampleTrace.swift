import CPFPluginABI
import PFPluginSDK
#if canImport(Glibc)
import Glibc
#endif

// A trace plugin: stores the JSON Lines conversation named by `path` as one blob and counts its
// messages. Build: swift build -c release; check:
//   pfhost check-plugin .build/release/libexample-trace-swift.so --set path=conversation.jsonl

nonisolated(unsafe) private let table = PluginTable.make(
    kind: .trace, id: "org.example.trace.swift", version: "1.0.0",
    description: "Stores a JSON Lines conversation and counts its messages (Swift)",
    settings: [SettingDeclaration("path", .path, required: true, help: "the conversation, JSON Lines (one chat message per line)")]
) { host, context in
    Capture.run(host, context) { capture throws(PluginFailure) in
        guard !capture.isCancelled else { throw PluginFailure(Int32(PF_ERR_CANCELLED), "cancelled before the capture started") }
        let path = try capture.required("path")
        let messages = try countLines(path)
        let blob = try capture.putFile(path, mediaType: "application/x-ndjson")
        try capture.setLayer(#"{"kind":"trace","blobs":[\#(blob.descriptor)],"messages":"\#(blob.digest)","message_count":\#(messages)}"#)
    }
}

/// The number of lines of `path` that hold something other than whitespace.
private func countLines(_ path: String) throws(PluginFailure) -> Int {
    guard let file = fopen(path, "re") else { throw .io("cannot open trace.path \(path): \(String(cString: strerror(errno)))") }
    defer { fclose(file) }
    var count = 0, blank = true
    while true {
        let byte = getc(file)
        if byte == EOF || byte == 0x0a {
            if !blank { count += 1 }
            blank = true
            if byte == EOF { break }
        } else if byte != 0x20, byte != 0x09, byte != 0x0d {
            blank = false
        }
    }
    guard ferror(file) == 0 else { throw .io("reading trace.path \(path) failed") }
    return count
}

/// The one exported symbol.
@_cdecl("pf_plugin_entry_v1")
public func pluginEntry() -> UnsafePointer<pf_plugin> { table }
