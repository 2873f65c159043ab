import PFModel
import PFPluginKit
import PFSystem

/// Restores the world layer under `TARGET/world/`:
///
/// - `tree/`: the captured tree, every entry of the index in its order: names byte-exact (`path`
///   or `path_bytes`), file contents from their pack or blob, symlinks with their targets verbatim,
///   modes and mtimes as recorded (directories' last, deepest first, once they are filled).
///   `world.root` points at it, and the capture's `exclude` and `keep_private_keys` (recorded in the
///   layer's annotations) go to `pfhost.json` too, so a capture of the restored tree stores the same
///   blobs.
/// - What cannot be re-created is restored as a record and reported as `not_recreated`: the
///   environment (`env.json`), the process tree (`processes.json`), and the browser, whose saved DOM
///   becomes `dom.html` (`world.dom` points at it).
///
/// An index is untrusted input: an entry whose path is absolute or has an empty, `.` or `..`
/// component, that would go through a symlink, that is listed twice, whose content lies outside its
/// pack, or whose type is not a file, directory or symlink fails the restore with a message naming
/// it; the host's services never create anything outside `TARGET/world/` anyway. An entry of type
/// `other` (a FIFO, socket or device when captured) is refused unless `world.skip_special=true`
/// (`pfhost restore --set world.skip_special=true`), which leaves such entries out and reports them.
struct WorldRestore {
    let host: RestoreHost
    static let tree = "tree"

    func run() throws(PluginError) {
        let layer = try host.layer(WorldLayer.self)
        let content = layer.content
        let skipSpecial = try host.flag("skip_special", default: false)
        let sizes = Dictionary(layer.blobs.map { ($0.digest, $0.size) }, uniquingKeysWith: { first, _ in first })
        let root = Array(Self.tree.utf8)
        try host.makeDirectory(root, mode: 0o777)
        let restored = try restoreTree(content.tree, sizes: sizes, root: root, skipSpecial: skipSpecial)

        try host.setRestoredConfig("root", Self.tree, isPath: true)
        if let exclude = layer.annotations[WorldCapture.excludeAnnotation] { try host.setRestoredConfig("exclude", exclude) }
        if layer.annotations[WorldCapture.keepPrivateKeysAnnotation] == "true" { try host.setRestoredConfig("keep_private_keys", "true") }

        var notRecreated: [String] = []
        if let env = content.env {
            try write("env.json", CanonicalJSON.encode(.object(env.mapValues { .string($0) })) + [0x0a])
            notRecreated.append("the environment (\(env.count) variables, recorded in world/env.json)")
        } else {
            try host.setRestoredConfig("env", "false")
        }
        if let processes = content.processes {
            let records: [UInt8]
            do { records = try CanonicalJSON.encode(processes) } catch {
                throw .invalid("the world layer's processes cannot be written: \(error)")
            }
            try write("processes.json", records + [0x0a])
            notRecreated.append("\(processes.count) process\(processes.count == 1 ? "" : "es") (recorded in world/processes.json)")
        }
        if let dom = content.dom {
            guard sizes[dom.digest] == dom.size else { throw .invalid("the world layer's DOM \(dom.digest) is not one of its blobs") }
            try host.restoreFile(Array("dom.html".utf8), from: dom.digest)
            try host.setRestoredConfig("dom", "dom.html", isPath: true)
            notRecreated.append("the browser (its saved DOM is world/dom.html)")
        }
        if !notRecreated.isEmpty { host.report("not_recreated", notRecreated.joined(separator: "; ")) }
        if !restored.changed.isEmpty {
            host.report("changed_while_captured", Self.list(restored.changed)
                + ": these files were being written when captured; they hold what was read (a capture of them will not mark them changed)")
        }
        if !restored.skipped.isEmpty {
            host.report("skipped", Self.list(restored.skipped) + ": special files (FIFOs, sockets, devices) are not created (world.skip_special)")
        }
    }

    /// What ``restoreTree(_:sizes:root:skipSpecial:)`` left out or could not make exact.
    private struct Restored {
        var changed: [String] = []
        var skipped: [String] = []
    }

    /// Up to 10 names, then how many more.
    private static func list(_ names: [String]) -> String {
        names.prefix(10).joined(separator: ", ") + (names.count > 10 ? " and \(names.count - 10) more" : "")
    }

    /// Writes the tree index's entries under `root`.
    private func restoreTree(_ tree: WorldTree, sizes: [Digest: Int64], root: [UInt8], skipSpecial: Bool) throws(PluginError) -> Restored {
        let indexName = "world tree index \(tree.index)"
        guard sizes[tree.index] != nil else { throw .invalid("\(indexName) is not one of the layer's blobs") }
        let index: JSONValue
        do {
            let file = try host.openBlob(tree.index)
            index = try JSONParser.parse(try file.read(upTo: Int(clamping: file.size)))
        } catch let error as PluginError {
            throw error
        } catch {
            throw .invalid("\(indexName) is not valid JSON: \(error)")
        }
        guard index["format"]?.stringValue == "pfhost-world-tree", index["version"] == .int(1),
              case .array(let entries)? = index["entries"], case .array(let packItems)? = index["packs"] else {
            throw .invalid("\(indexName) is not a pfhost-world-tree version 1")
        }
        var packs: [(digest: Digest, size: Int64)] = []
        for item in packItems {
            guard let text = item.stringValue, let digest = try? Digest(parsing: text), let size = sizes[digest] else {
                throw .invalid("\(indexName): pack \(item) is not one of the layer's blobs")
            }
            packs.append((digest, size))
        }

        var restored = Restored()
        var directories: [(path: [UInt8], mode: UInt32, mtime: Int64)] = []
        var pack = PackReader(host: host)
        // Where each pack's last member ended: capture lays a pack's members end to end, in the
        // index's order, so a member that starts before that overlaps another, and a hostile index
        // could have a 1 MiB pack write gigabytes.
        var packEnds = [Int64](repeating: 0, count: packs.count)
        var path = root
        for (number, entry) in entries.enumerated() {
            if number % 256 == 0 {
                try host.checkCancelled()
                host.progress(done: UInt64(number), total: UInt64(entries.count))
            }
            let relative = try Self.bytes(entry, "path", "path_bytes", number: number, in: indexName)
            // Escaped: a NUL would cut the message short, a newline forge a line.
            let shown = DisplayText.escaped(String(decoding: relative, as: UTF8.self))
            func refuse(_ reason: String) -> PluginError {
                .invalid("world tree entry '\(shown)' (entry \(number + 1) of \(indexName)): \(reason)")
            }
            guard SystemCalls.isPlainRelative(relative) else {
                throw refuse("not a path inside the tree (it is empty or absolute, or has an empty, '.' or '..' component); nothing was written outside TARGET/world")
            }
            guard relative.count(where: { $0 == UInt8(ascii: "/") }) < TreeWalker.maximumDepth else {
                throw refuse("deeper than \(TreeWalker.maximumDepth) directory levels, which a capture never records")
            }
            guard case .int(let mode)? = entry["mode"], (0...0o7777).contains(mode), case .int(let mtime)? = entry["mtime_ns"] else {
                throw refuse("no mode (0 to 07777) or mtime_ns")
            }
            path.removeSubrange(root.count...)
            path.append(UInt8(ascii: "/"))
            path.append(contentsOf: relative)
            do throws(PluginError) {
                switch entry["type"]?.stringValue {
                case "directory":
                    try host.makeDirectory(path, mode: 0o700)
                    directories.append((path, UInt32(mode), mtime))
                case "file":
                    guard case .int(let size)? = entry["size"], size >= 0 else { throw refuse("a file without a size") }
                    if entry["changed"] == .bool(true) { restored.changed.append(shown) }
                    if let text = entry["blob"]?.stringValue {
                        guard let digest = try? Digest(parsing: text), sizes[digest] == size else {
                            throw refuse("its blob \(text) is not one of the layer's blobs of \(size) bytes")
                        }
                        try host.restoreFile(path, from: digest, mode: UInt32(mode), mtime: mtime)
                    } else if case .int(let number)? = entry["pack"], case .int(let offset)? = entry["offset"] {
                        guard number >= 0, number < packs.count, offset >= 0, offset <= packs[Int(number)].size - size else {
                            throw refuse("its bytes (pack \(number), offset \(offset), \(size) bytes) are not within one of the index's packs")
                        }
                        guard size < WorldCapture.smallFileLimit else {
                            throw refuse("a file of \(size) bytes in a pack, where a capture packs only files under \(WorldCapture.smallFileLimit) bytes")
                        }
                        guard offset >= packEnds[Int(number)] else {
                            throw refuse("its bytes (pack \(number), offset \(offset)) overlap those of an earlier entry, which a capture never writes")
                        }
                        packEnds[Int(number)] = offset + size
                        let file = try host.createFile(path)
                        try pack.write(packs[Int(number)].digest, from: offset, count: size, to: file)
                        try file.close()
                        try host.setAttributes(path, mode: UInt32(mode), mtime: mtime)
                    } else {
                        throw refuse("a file with neither a blob nor a pack and offset")
                    }
                case "symlink":
                    let target = try Self.bytes(entry, "target", "target_bytes", number: number, in: indexName)
                    guard !target.isEmpty else { throw refuse("a symlink without a target") }
                    try host.makeSymlink(path, target: target)
                    try host.setAttributes(path, mode: nil, mtime: mtime)
                case "other" where skipSpecial:
                    restored.skipped.append(shown)
                case "other":
                    throw refuse("a special file (FIFO, socket or device) when captured, which restore does not create; set world.skip_special=true to restore the tree without it")
                case let type:
                    throw refuse("type \(type.map { "'\($0)'" } ?? "missing") is not file, directory or symlink (a device node is never created)")
                }
            } catch {
                if error.message.hasPrefix("world tree entry") || error.code == PluginError.cancelled.code { throw error }
                throw PluginError(code: error.code, message: "world tree entry '\(shown)' (entry \(number + 1) of \(indexName)): \(error.message)")
            }
        }
        // Last, and deepest first: filling a directory moves its mtime, and a recorded mode without
        // write permission would have stopped the filling.
        for directory in directories.reversed() {
            try host.setAttributes(directory.path, mode: directory.mode, mtime: directory.mtime)
        }
        host.progress(done: UInt64(entries.count), total: UInt64(entries.count))
        return restored
    }

    /// An entry's name as bytes: the string `plain`, or the Base64 in `encoded`.
    private static func bytes(_ entry: JSONValue, _ plain: String, _ encoded: String, number: Int, in index: String) throws(PluginError) -> [UInt8] {
        guard entry[plain] == nil || entry[encoded] == nil else {
            throw .invalid("entry \(number + 1) of \(index): both \(plain) and \(encoded) (an entry has exactly one name)")
        }
        if let text = entry[plain]?.stringValue { return Array(text.utf8) }
        if let text = entry[encoded]?.stringValue {
            guard let bytes = Base64.decode(text) else {
                throw .invalid("entry \(number + 1) of \(index): \(encoded) is not Base64")
            }
            return bytes
        }
        throw .invalid("entry \(number + 1) of \(index): neither \(plain) nor \(encoded)")
    }

    /// Writes `TARGET/world/<name>`.
    private func write(_ name: String, _ bytes: [UInt8]) throws(PluginError) {
        let file = try host.createFile(Array(name.utf8), mode: 0o644)
        try file.write(bytes)
        try file.close()
    }
}
