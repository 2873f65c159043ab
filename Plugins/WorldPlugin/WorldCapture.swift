import PFModel
import PFPluginKit
#if canImport(Glibc)
import Glibc
#endif

/// Captures the world layer.
///
/// Settings: `root` (required, the agent's directory), `exclude` (comma-separated fnmatch
/// patterns), `env` (capture the environment; default true), `env_keep` (comma-separated names
/// never redacted, by name or by value: see ``SecretRedactor``), `pid` (capture that process and its descendants from `/proc`, and take the
/// environment from it rather than from pfhost), `dom` (an HTML file saved by the agent's browser,
/// stored byte for byte, and left out when it holds a private key unless `keep_private_keys`),
/// `racy_window_ms` (default 2000: stat data of files changed this recently are not trusted).
///
/// Files under 64 KiB are packed (cut where a path's hash says, so an unchanged run of files forms
/// the same pack again; packs grow with the tree, see ``packLevel(smallFiles:parentLevel:)``) and a
/// pack whose members' stat data equal a parent pack's key is reused without reading them. Larger
/// files are stored one blob each through `put_file`. The index blob lists every entry with its
/// content's location.
struct WorldCapture {
    let host: PluginHost
    static let smallFileLimit: Int64 = 64 << 10
    /// At level 0 a pack holds about 16 files and at most about 256 KiB; each level doubles both.
    static let packFiles = 16
    static let packBytes: Int64 = 256 << 10
    /// A level is enough once the tree has at most this many packs.
    static let packsPerTree = 256
    /// Packs stop growing at 256 files or 4 MiB, so that one edited file never costs more.
    static let maximumPackLevel = 4

    func run() throws(PluginError) {
        let rootPath = try host.requiredConfig("root", meaning: "the agent's working directory")
        let root = try RootDirectory(path: rootPath, setting: "world.root")
        let excludes = host.list("exclude")
        let entries = try TreeWalker(root: root, excludes: excludes, host: host).walk()
        let captureStart = FileStatRecord.now()
        let racyWindow = try host.racyWindow()
        let keepPrivateKeys = try host.flag("keep_private_keys", default: false)
        let pid = try processID()
        let env = try host.flag("env", default: true) ? try environment(pid: pid) : nil
        let processes = try pid.map { pid throws(PluginError) in try ProcessTree.capture(root: pid) }
        var dom: WorldDOM?
        var domBlob: Descriptor?
        if let path = host.config("dom"), let blob = try captureDOM(path, keepPrivateKeys: keepPrivateKeys) {
            domBlob = blob
            dom = WorldDOM(path: path, digest: blob.digest, size: blob.size)
        }
        // What decided which files are in the tree, so a restore can hand it on to the restored
        // agent's config: a capture of the restored tree then stores the same files.
        func annotations(level: Int, treeKey: String?) -> [String: String] {
            var annotations = [Self.packLevelAnnotation: String(level)]
            annotations[Self.treeKeyAnnotation] = treeKey
            if !excludes.isEmpty { annotations[Self.excludeAnnotation] = excludes.joined(separator: ",") }
            if keepPrivateKeys { annotations[Self.keepPrivateKeysAnnotation] = "true" }
            return annotations
        }

        // The tree's key: every entry's path and stat data. When it equals the parent's, the tree
        // (index, packs, large files) is the parent's, and nothing under the root is read; when
        // the rest (root, environment, processes, DOM) is the parent's too, so is the layer, handed
        // back as the parent has it without decoding it.
        var treeKey = Self.treeKey(entries, root: rootPath, keepPrivateKeys: keepPrivateKeys, captureStart: captureStart, racyWindow: racyWindow)
        let parentAnnotations = host.parentAnnotations()
        let parentLevel = parentAnnotations?[Self.packLevelAnnotation].flatMap(Int.init)
        if let key = treeKey, let parentAnnotations, parentAnnotations[Self.treeKeyAnnotation] == key,
           annotations(level: parentLevel ?? 0, treeKey: key) == parentAnnotations,
           host.parentLayerHas(["root": rootPath, "env": env, "processes": processes, "dom": dom]) {
            try host.setParentLayer()
            return
        }
        let parent = host.parentLayer(WorldLayer.self)
        var blobs: [Descriptor]
        let tree: WorldTree
        let level: Int
        if let key = treeKey, let parent, parent.annotations[Self.treeKeyAnnotation] == key {
            tree = parent.content.tree
            level = parentLevel ?? 0
            let parentDOM = parent.content.dom?.digest
            blobs = parent.blobs.filter { !($0.digest == parentDOM && $0.mediaType == Self.domMediaType) }
        } else {
            let smallFiles = entries.count(where: { $0.kind == .file && $0.size < Self.smallFileLimit })
            level = Self.packLevel(smallFiles: smallFiles, parentLevel: parentLevel)
            let captured = try captureTree(entries, root: root, parent: parent, level: level, keepPrivateKeys: keepPrivateKeys,
                                           captureStart: captureStart, racyWindow: racyWindow)
            (tree, blobs) = (captured.tree, captured.blobs)
            // A tree that moved under the capture is not what its key describes: never reuse it whole.
            if captured.moved { treeKey = nil }
        }
        if let domBlob { blobs.append(domBlob) }
        var unique = Set<Digest>()
        try host.setLayer(WorldLayer(
            blobs: blobs.filter { unique.insert($0.digest).inserted },
            annotations: annotations(level: level, treeKey: treeKey),
            content: WorldContent(root: rootPath, tree: tree, env: env, processes: processes, dom: dom)))
    }

    /// How much of the DOM is read at a time.
    static let domChunk = 1 << 20

    /// Stores the DOM file byte for byte (as of its size when opened), scanning it for a private
    /// key as it streams: one that holds a key is left out (nil), with a warning, unless
    /// `keepPrivateKeys`. Nothing else in it is redacted.
    private func captureDOM(_ path: String, keepPrivateKeys: Bool) throws(PluginError) -> Descriptor? {
        let file = try ReadableFile(path: path)
        let writer = try host.openBlob(mediaType: Self.domMediaType)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.domChunk, alignment: 16)
        defer { buffer.deallocate() }
        var scanner = PrivateKeyScanner()
        while true {
            try host.checkCancelled()
            let count = try file.read(into: buffer)
            guard count > 0 else { break }
            let piece = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            if !keepPrivateKeys && scanner.scan(piece) {
                writer.abort()
                host.log(.warning, "\(path) (world.dom) left out: it holds a private key (set world.keep_private_keys=true to keep it)")
                return nil
            }
            try writer.write(piece)
        }
        return try writer.commit()
    }

    static let treeKeyAnnotation = "dev.pfhost.world.tree_key"
    static let excludeAnnotation = "dev.pfhost.world.exclude"
    static let keepPrivateKeysAnnotation = "dev.pfhost.world.keep_private_keys"
    static let packLevelAnnotation = "dev.pfhost.world.pack_level"
    static let domMediaType = "text/html"

    /// How big the packs of a tree of `smallFiles` small files are: the least level at which the
    /// tree has at most ``packsPerTree`` packs (capped at ``maximumPackLevel``), so the layer and the
    /// snapshot's manifests list a few hundred packs, not thousands. The parent's level is kept
    /// while it gives between a quarter of that and twice that many packs, so a tree that grows and
    /// shrinks around a threshold is not repacked at every snapshot.
    static func packLevel(smallFiles: Int, parentLevel: Int?) -> Int {
        func packs(_ level: Int) -> Int { smallFiles / (packFiles << level) }
        if let parentLevel, (0...maximumPackLevel).contains(parentLevel),
           parentLevel == maximumPackLevel || packs(parentLevel) <= 2 * packsPerTree,
           parentLevel == 0 || packs(parentLevel) > packsPerTree / 4 {
            return parentLevel
        }
        var level = 0
        while level < maximumPackLevel && packs(level) > packsPerTree { level += 1 }
        return level
    }

    /// SHA-256 (bare hex) of the root and every entry's path and stat data; nil when an entry
    /// changed within the racy window, so that a write its timestamps cannot show is never missed.
    static func treeKey(_ entries: WalkedTree, root: String, keepPrivateKeys: Bool, captureStart: Int64, racyWindow: Int64) -> String? {
        var record: [UInt8] = []
        record.reserveCapacity(entries.count * 96)
        for entry in entries {
            if isRacy(entry, captureStart: captureStart, racyWindow: racyWindow) { return nil }
            // path NUL, then fixed-width little-endian stat fields, then the link target and NUL.
            record.append(contentsOf: entry.path)
            record.append(0)
            let fields = (UInt64(entry.mode).littleEndian, UInt64(bitPattern: entry.size).littleEndian, entry.device.littleEndian,
                          entry.inode.littleEndian, UInt64(bitPattern: entry.mtimeNanoseconds).littleEndian,
                          UInt64(bitPattern: entry.ctimeNanoseconds).littleEndian)
            withUnsafeBytes(of: fields) { record.append(contentsOf: $0) }
            record.append(contentsOf: entry.kind.rawValue.utf8)
            record.append(contentsOf: entry.target ?? [])
            record.append(0)
        }
        // The records of a 20,000-entry tree are about 2 MB: hashed as 64 KiB segments side by
        // side (``MultiBufferSHA256``, many lanes at once) rather than as one serial stream, then
        // the segments' digests in order, after the settings that decide what is stored of the
        // same files and the records' length.
        let segment = treeKeySegment
        let count = max(1, (record.count + segment - 1) / segment)
        let sizes = (0..<count).map { Int64(min(segment, record.count - $0 * segment)) }
        let digests = record.withUnsafeBytes { bytes in
            MultiBufferSHA256().digests(sizes: sizes) { (index, buffer, offset) throws(TreeKeySegmentError) -> Int in
                let start = index * segment + Int(offset)
                let end = index * segment + Int(sizes[index])
                guard start < end else { return 0 }
                let copied = min(buffer.count, end - start)
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[start ..< start + copied]))
                return copied
            } sizeChanged: { _, _ in TreeKeySegmentError() }
        }
        let hasher = SHA256Hasher()
        hasher.update(Array("pfhost-world-tree-key-v3\n\(root)\nkeep_private_keys=\(keepPrivateKeys)\n\(record.count)\n".utf8))
        for result in digests {
            guard case .success(let digest) = result else { return nil }
            hasher.update(Array(digest.hex.utf8))
        }
        return hasher.finalize().hex
    }

    /// The size of the segments ``treeKey(_:root:keepPrivateKeys:captureStart:racyWindow:)`` hashes side by side.
    static let treeKeySegment = 64 << 10

    /// Never thrown: a segment of the records in memory always has its size.
    private struct TreeKeySegmentError: Error {}

    /// Whether `entry` changed too close to the capture for its stat data to be trusted (checked
    /// arithmetic: timestamps come from the file system and may be anything).
    static func isRacy(_ entry: TreeEntry, captureStart: Int64, racyWindow: Int64) -> Bool {
        let (age, overflow) = captureStart.subtractingReportingOverflow(max(entry.mtimeNanoseconds, entry.ctimeNanoseconds))
        return overflow ? entry.mtimeNanoseconds > 0 : age < racyWindow
    }

    /// What ``captureTree(_:root:parent:level:captureStart:racyWindow:)`` stored.
    private struct CapturedTree {
        var tree: WorldTree
        var blobs: [Descriptor]
        /// A file vanished or changed while it was read.
        var moved: Bool
    }

    /// Stores the tree: packs of small files (reusing the parent's unchanged ones), large files,
    /// and the index blob. Files are opened beneath `root` following no symlink; a file that is
    /// gone when it is read is left out, and one that changed while read is stored as the prefix of
    /// the size the walk saw and marked `changed`, each with a warning.
    private func captureTree(_ entries: WalkedTree, root: RootDirectory, parent: WorldLayer?, level: Int, keepPrivateKeys: Bool,
                             captureStart: Int64, racyWindow: Int64) throws(PluginError) -> CapturedTree {
        let packBytes = Self.packBytes << level
        let packFiles = UInt32(Self.packFiles << level)
        let parentPacks: [String: (Descriptor, Int)] = {
            guard let parent else { return [:] }
            let blobs = Dictionary(parent.blobs.map { ($0.digest, $0) }, uniquingKeysWith: { first, _ in first })
            var packs: [String: (Descriptor, Int)] = [:]
            for pack in parent.content.tree.packs ?? [] {
                if let key = pack.key, let blob = blobs[pack.digest] { packs[key] = (blob, pack.fileCount) }
            }
            return packs
        }()

        var blobs: [Descriptor] = []
        var packs: [WorldPack] = []
        // The index is streamed into its blob as canonical JSON while the walk goes on, so memory
        // holds only the records not yet final (those from the first member of the open pack on)
        // and one chunk of text, never the whole index. Keys sort as entries < format < packs <
        // version, so entries come first.
        let index = try host.openBlob(mediaType: "application/vnd.pfhost.world-tree.v1+json")
        try index.write(Array(#"{"entries":["#.utf8))
        var waiting: [IndexRecord] = []
        var written = 0
        var pending: [(entry: TreeEntry, record: Int)] = []
        var pendingBytes: Int64 = 0
        var totalBytes: Int64 = 0
        var moved = false
        var text: [UInt8] = []

        func emitWaiting() throws(PluginError) {
            for record in waiting where !record.omitted {
                text.removeAll(keepingCapacity: true)
                if written > 0 { text.append(UInt8(ascii: ",")) }
                record.append(to: &text)
                try index.write(text)
                written += 1
                if record.entry.kind == .file { totalBytes += record.size }
            }
            waiting.removeAll(keepingCapacity: true)
        }

        func note(_ outcome: MemberOutcome, _ record: Int) {
            switch outcome {
            case .stored(let size, let changed):
                if changed {
                    waiting[record].changed = true
                    if size != waiting[record].entry.size { waiting[record].storedSize = size }
                    moved = true
                    host.log(.warning, "\(root.display(waiting[record].entry.path)) changed while it was captured: stored the first \(size) bytes, marked \"changed\" in the tree index")
                }
            case .vanished:
                waiting[record].omitted = true
                moved = true
                host.log(.warning, "\(root.display(waiting[record].entry.path)) left out: it was removed or replaced during the capture")
            case .privateKey:
                waiting[record].omitted = true
                host.log(.warning, "\(root.display(waiting[record].entry.path)) left out: it holds a private key (set world.keep_private_keys=true to keep such files)")
            }
        }

        func flushPack() throws(PluginError) {
            guard !pending.isEmpty else { return }
            let key = packKey(pending.map(\.entry), keepPrivateKeys: keepPrivateKeys, captureStart: captureStart, racyWindow: racyWindow)
            if let key, let (known, count) = parentPacks[key], count == pending.count {
                var offset: Int64 = 0
                for (entry, record) in pending {
                    waiting[record].location = (packs.count, offset)
                    offset += entry.size
                }
                packs.append(WorldPack(digest: known.digest, key: key, fileCount: pending.count))
                blobs.append(known)
            } else {
                let (blob, outcomes) = try writePack(pending.map(\.entry), root: root, keepPrivateKeys: keepPrivateKeys)
                var offset: Int64 = 0
                var stored = 0
                for ((_, record), outcome) in zip(pending, outcomes) {
                    note(outcome, record)
                    guard case .stored(let size, _) = outcome else { continue }
                    waiting[record].location = (packs.count, offset)
                    offset += size
                    stored += 1
                }
                // A pack whose members moved or were left out is not what its key describes.
                let stable = stored == pending.count && !outcomes.contains { if case .stored(_, true) = $0 { true } else { false } }
                if stored > 0 {
                    packs.append(WorldPack(digest: blob.digest, key: stable ? key : nil, fileCount: stored))
                    blobs.append(blob)
                }
            }
            pending = []
            pendingBytes = 0
            try emitWaiting()
        }

        for (number, entry) in entries.enumerated() {
            if number % 256 == 0 { try host.checkCancelled() }
            var record = IndexRecord(entry: entry)
            if entry.kind == .file {
                if entry.size >= Self.smallFileLimit {
                    if let file = try root.openFile(entry.path) {
                        let (blob, changed) = try host.putFile(file, size: entry.size, mediaType: "application/octet-stream")
                        record.blob = blob.digest
                        blobs.append(blob)
                        waiting.append(record)
                        note(.stored(size: blob.size, changed: changed || !Self.isSame(file.status, entry)), waiting.count - 1)
                    } else {
                        waiting.append(record)
                        note(.vanished, waiting.count - 1)
                    }
                    record = waiting.removeLast()
                } else {
                    pending.append((entry, waiting.count))
                    pendingBytes += entry.size
                }
            }
            waiting.append(record)
            if pending.isEmpty { try emitWaiting() }
            if entry.kind == .file, entry.size < Self.smallFileLimit,
               pendingBytes >= packBytes || Self.isBoundary(entry.path, every: packFiles) {
                try flushPack()
            }
            host.progress(done: UInt64(number + 1), total: UInt64(entries.count))
        }
        try flushPack()
        try emitWaiting()
        try index.write(Array(#"],"format":"pfhost-world-tree","packs":"#.utf8)
                        + CanonicalJSON.encode(.array(packs.map { .string($0.digest.description) }))
                        + Array(#","version":1}"#.utf8))
        let indexBlob = try index.commit()
        blobs.insert(indexBlob, at: 0)
        return CapturedTree(
            tree: WorldTree(index: indexBlob.digest, entryCount: written, totalBytes: totalBytes, packs: packs.isEmpty ? nil : packs),
            blobs: blobs, moved: moved)
    }

    /// Whether what `fstat` says of an opened file is what the walk saw (same file, same size and times).
    static func isSame(_ info: stat, _ entry: TreeEntry) -> Bool {
        UInt64(info.st_dev) == entry.device && UInt64(info.st_ino) == entry.inode && Int64(info.st_size) == entry.size
            && TreeEntry.nanoseconds(info.st_mtim) == entry.mtimeNanoseconds && TreeEntry.nanoseconds(info.st_ctim) == entry.ctimeNanoseconds
    }

    /// A pack ends after a file whose path hashes (FNV-1a) to 0 mod `files`, so boundaries move only
    /// where files change, and a changed file costs re-reading its pack of about `files` small files.
    static func isBoundary(_ path: [UInt8], every files: UInt32) -> Bool {
        var hash: UInt32 = 2_166_136_261
        for byte in path { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return hash % files == 0
    }

    /// The stat key of a pack, or nil when a member's timestamps are too recent to trust: the
    /// SHA-256 of `v2` LF, then per member `path NUL device:inode:size:mtime_ns:ctime_ns LF` (decimal).
    private func packKey(_ members: [TreeEntry], keepPrivateKeys: Bool, captureStart: Int64, racyWindow: Int64) -> String? {
        var text: [UInt8] = Array((keepPrivateKeys ? "v2 keys\n" : "v2\n").utf8)
        text.reserveCapacity(members.count * 96)
        for entry in members {
            if Self.isRacy(entry, captureStart: captureStart, racyWindow: racyWindow) { return nil }
            text.append(contentsOf: entry.path)
            text.append(0)
            text.append(contentsOf: String(entry.device).utf8)
            text.append(UInt8(ascii: ":"))
            text.append(contentsOf: String(entry.inode).utf8)
            for field in [entry.size, entry.mtimeNanoseconds, entry.ctimeNanoseconds] {
                text.append(UInt8(ascii: ":"))
                CanonicalJSON.appendInteger(field, to: &text)
            }
            text.append(0x0a)
        }
        return Digest.of(text).hex
    }

    /// What became of one file read for a pack.
    enum MemberOutcome {
        /// `size` bytes are in the pack; `changed` when the file moved while it was read.
        case stored(size: Int64, changed: Bool)
        /// Gone (or replaced by something that is not a regular file reachable without symlinks).
        case vanished
        /// Left out: its content is a private key (and `keep_private_keys` is off).
        case privateKey
    }

    /// Streams the members' bytes into one pack blob: each read beneath `root` without following a
    /// symlink, at most the size the walk saw.
    private func writePack(_ members: [TreeEntry], root: RootDirectory, keepPrivateKeys: Bool) throws(PluginError) -> (Descriptor, [MemberOutcome]) {
        let writer = try host.openBlob(mediaType: "application/vnd.pfhost.world-pack.v1")
        // Members are smaller than smallFileLimit: one buffer holds any of them.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(Self.smallFileLimit), alignment: 16)
        defer { buffer.deallocate() }
        var outcomes: [MemberOutcome] = []
        outcomes.reserveCapacity(members.count)
        for entry in members {
            guard let file = try root.openFile(entry.path) else {
                outcomes.append(.vanished)
                continue
            }
            let count = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Int(entry.size)]))
            let content = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            if !keepPrivateKeys && SecretRedactor.containsPrivateKey(content) {
                outcomes.append(.privateKey)
                continue
            }
            let changed = Int64(count) != entry.size || !Self.isSame(file.status, entry) || file.changedSinceOpened
            try writer.write(content)
            outcomes.append(.stored(size: Int64(count), changed: changed))
        }
        return (try writer.commit(), outcomes)
    }

    private func processID() throws(PluginError) -> Int32? {
        guard let text = host.config("pid") else { return nil }
        guard let pid = Int32(text), pid > 0 else { throw .invalid("world.pid='\(text)' is not a process id") }
        return pid
    }

    /// The environment of `pid` (or of pfhost itself), secrets redacted.
    private func environment(pid: Int32?) throws(PluginError) -> [String: String] {
        var variables: [String: String]
        if let pid {
            guard let bytes = try? ReadableFile.contents(of: "/proc/\(pid)/environ") else {
                throw .io("/proc/\(pid)/environ: cannot be read (is process \(pid) running and yours?)")
            }
            variables = Self.variables(bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) })
        } else {
            var pairs: [String] = []
            var next = environ
            while let pair = next.pointee {
                pairs.append(String(cString: pair))
                next += 1
            }
            variables = Self.variables(pairs)
        }
        // Snapshots are meant to be shared: secret-named variables and secret-shaped values are
        // redacted, except in the variables the operator listed as safe.
        let keep = Set(host.list("env_keep"))
        for (name, value) in variables {
            variables[name] = SecretRedactor.redact(name: name, value: value, keep: keep)
        }
        return variables
    }

    /// `NAME=value` pairs as a dictionary (a pair without `=` is skipped).
    static func variables(_ pairs: [String]) -> [String: String] {
        var variables: [String: String] = [:]
        for text in pairs {
            if let equals = text.firstIndex(of: "=") { variables[String(text[..<equals])] = String(text[text.index(after: equals)...]) }
        }
        return variables
    }
}
