import CPFPluginABI
import PFPluginSDK
#if canImport(Glibc)
import Glibc
#endif

// A trace plugin: stores the JSON Lines conversation named by `path` as one blob and counts its
// messages; its restore (ABI 1.1) writes the blob back as TARGET/trace/conversation.jsonl through the
// host's file services and records the setting that captures it. The C example, in Swift.
// Build: swift build -c release; check:
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
} restore: { host, context, layer, length in
    Capture.run(host, context) { _ throws(PluginFailure) in
        let json = layer.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: length), as: UTF8.self) } ?? ""
        try restoreConversation(host!, context!, layer: json)
    }
}

/// Writes the layer's conversation blob as `conversation.jsonl` in the layer's restore directory and
/// records `path` for `TARGET/pfhost.json`, so a capture of the restored agent gives the same blob.
private func restoreConversation(_ host: UnsafePointer<pf_host>, _ context: OpaquePointer, layer: String) throws(PluginFailure) {
    // The restore services were appended to ABI 1.1: make sure this host's table has them.
    let needed = MemoryLayout<pf_host>.offset(of: \.report)! + MemoryLayout.size(ofValue: host.pointee.report)
    guard Int(host.pointee.struct_size) >= needed else {
        throw PluginFailure(Int32(PF_ERR_UNSUPPORTED), "this host has no restore services; upgrade pfhost")
    }
    guard let digest = messagesDigest(layer) else { throw .invalid("the trace layer has no messages digest") }
    // A descriptor on the blob, its bytes already checked against the digest by the host.
    var input: Int32 = -1, size: UInt64 = 0
    var code = host.pointee.open_blob(context, digest, &input, &size)
    guard code == PF_OK else { throw PluginFailure(code, "cannot read the conversation blob") }
    defer { close(input) }
    // Paths are relative to TARGET/trace/; the host creates the file beneath it (O_EXCL).
    var output: Int32 = -1
    code = host.pointee.create_file(context, "conversation.jsonl", 0o644, &output)
    guard code == PF_OK else { throw PluginFailure(code, "cannot create conversation.jsonl") }
    var buffer = [UInt8](repeating: 0, count: 65_536)
    var copied: UInt64 = 0
    while !(host.pointee.cancelled(context) != 0) {
        let count = read(input, &buffer, buffer.count)
        guard count > 0, write(output, buffer, count) == count else { break }
        copied += UInt64(count)
    }
    let closed = close(output)
    guard copied == size, closed == 0 else {
        if host.pointee.cancelled(context) != 0 { throw PluginFailure(Int32(PF_ERR_CANCELLED), "cancelled") }
        throw .io("writing conversation.jsonl failed")
    }
    // A capture of the restored agent reads trace.path = TARGET/trace/conversation.jsonl.
    code = host.pointee.set_restored_config(context, "path", "conversation.jsonl", 1)
    guard code == PF_OK else { throw PluginFailure(code, "cannot record trace.path") }
}

/// The `sha256:` digest after `"messages":"` in the layer JSON, or nil.
private func messagesDigest(_ json: String) -> String? {
    let bytes = Array(json.utf8), key = Array(#""messages":""#.utf8), length = 71
    guard bytes.count >= key.count + length else { return nil }
    for start in 0...(bytes.count - key.count - length) where bytes[start..<start + key.count].elementsEqual(key) {
        let digest = String(decoding: bytes[(start + key.count)..<(start + key.count + length)], as: UTF8.self)
        return digest.hasPrefix("sha256:") ? digest : nil
    }
    return nil
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
