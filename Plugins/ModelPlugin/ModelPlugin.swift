import CPFPluginABI
#if canImport(Glibc)
import Glibc
#endif
import PFModel
import PFPluginKit
import PFSystem

private let identity = PluginIdentity(kind: .model, id: "dev.pfhost.model.safetensors", version: "1.3.0")

nonisolated(unsafe) private let table = PluginEntry.makeTable(
    identity,
    description: "Stores a safetensors model directory and its LoRA adapters, checking every header; or records a hosted model",
    settings: [
        PluginSetting("path", .path, help: "a model directory or a .safetensors file (required unless provider is set)"),
        PluginSetting("name", .string, help: "the model's name (default: the directory's or file's name; required with provider)"),
        PluginSetting("provider", .string, help: "a hosted model: the provider serving it, e.g. openai (then no path)"),
        PluginSetting("revision", .string, help: "a hosted model: its pinned revision or snapshot date"),
        PluginSetting("base_url", .string, help: "a hosted model: the API endpoint the agent calls (credentials in it are redacted)"),
        PluginSetting("racy_window_ms", .int, default: "2000", help: "the files' stat data are trusted only once they are this old"),
    ],
    capture: { host, context in
        PluginEntry.run(host, context, identity) { host throws(PluginError) in try ModelCapture(host: host).run() }
    },
    restore: { host, context, json, length in
        PluginEntry.restore(host, context, json, length, identity) { host throws(PluginError) in try ModelRestore(host: host).run() }
    }
)

/// The plugin's one exported symbol.
@_cdecl("pf_plugin_entry_v1")
public func pluginEntry() -> UnsafePointer<pf_plugin> { table }

/// Captures the model layer.
///
/// `model.path` is a model directory or one `.safetensors` file. In a directory, every regular
/// file at its top is stored (weights, `config.json`, tokenizer files); each `.safetensors` header
/// is checked. Subdirectories holding an `adapter_config.json` (directly or under `adapters/`)
/// are adapters: PEFT's config (`base_model_name_or_path`, `peft_type`) and their files.
/// `model.name` names the model (default: `config.json`'s `_name_or_path`, else the directory name;
/// for one file, its name without `.safetensors`). A `config.json` is checked like the weights: it
/// must be a JSON object of at most 16 MiB, else the capture fails naming the line, column and reason.
///
/// Nothing under the model directory is reached through a symlink: files are listed with `lstat`
/// and opened beneath the directory's descriptor (``RootDirectory``), so `notes.txt -> /etc/shadow`
/// is skipped with a warning, never stored.
///
/// An agent that calls a hosted model sets `model.provider` and `model.name` (and optionally
/// `model.revision` and `model.base_url`) instead of `model.path`: the layer then records the model
/// (format `hosted`) and stores no blob.
struct ModelCapture {
    let host: PluginHost

    /// The annotation keeping ``filesKey(shape:name:files:captureStart:racyWindow:)`` of the files a layer was captured from.
    static let filesKeyAnnotation = "dev.pfhost.model.files_key"

    func run() throws(PluginError) {
        if let provider = host.config("provider") { return try captureHosted(provider: provider) }
        let path = try host.requiredConfig("path", meaning: "a model directory or a .safetensors file; or set provider and name for a hosted model")
        guard let kind = Self.kind(of: path) else { throw .io("\(path): no such file or directory") }
        let captureStart = FileStatRecord.now()
        let racyWindow = try host.racyWindow()
        let nameSetting = host.config("name")
        var blobs: [Descriptor] = []
        var modelFiles: [ModelFile] = []
        var adapterRecords: [ModelAdapter] = []
        // Each file as it was opened and read, for the key the layer keeps.
        var captured: [(path: String, status: stat)] = []
        let name: String
        // What the name comes from when no setting gives it: the directory's or the file's name,
        // which a rename changes without touching any file's stat data.
        let defaultName: String
        if kind == S_IFDIR {
            let root = try RootDirectory(path: path, setting: "model.path")
            let topFiles = try regularFiles(in: root, under: [])
            guard topFiles.contains(where: { $0.name.hasSuffix(".safetensors") }) else {
                throw .invalid("\(path): no .safetensors file found (the model plugin reads safetensors weights)")
            }
            let adapterDirectories = try adapters(in: root)
            var adapterFiles: [[(name: String, status: stat)]] = []
            for relative in adapterDirectories { adapterFiles.append(try regularFiles(in: root, under: Array(relative.utf8))) }
            // Every file's path and stat data, as listed, are the parent's (settled) key: the layer
            // is the parent's, handed back as it was given, and no file is opened.
            let listed = topFiles.map { ($0.name, $0.status) }
                + zip(adapterDirectories, adapterFiles).flatMap { relative, files in files.map { (relative + "/" + $0.name, $0.status) } }
            if let parentKey = host.parentAnnotations()?[Self.filesKeyAnnotation],
               Self.filesKey(shape: "directory", name: nameSetting, defaultName: Self.lastComponent(of: root.path), files: listed,
                             captureStart: captureStart, racyWindow: racyWindow) == parentKey {
                try host.setParentLayer()
                return
            }
            let total = UInt64(topFiles.count + adapterDirectories.count)
            var config: [String: AnyJSON]?
            for (index, file) in topFiles.map(\.name).enumerated() {
                try host.checkCancelled()
                let opened = try open(file, in: root)
                // The model's configuration is checked like its weights: a file that is not JSON
                // (or nests 100,000 deep) is refused, naming where and why.
                if file == "config.json" { config = try Self.jsonObject(opened, limit: Self.configLimit) }
                let (record, stored) = try store(opened, as: file)
                modelFiles.append(record)
                blobs += stored
                captured.append((file, opened.status))
                host.progress(done: UInt64(index + 1), total: total)
            }
            for (index, (relative, files)) in zip(adapterDirectories, adapterFiles).enumerated() {
                try host.checkCancelled()
                let config = try adapterConfig(try open(relative + "/adapter_config.json", in: root))
                var records: [ModelFile] = []
                for file in files.map(\.name) {
                    let opened = try open(relative + "/" + file, in: root)
                    let (record, stored) = try store(opened, as: relative + "/" + file)
                    records.append(record)
                    blobs += stored
                    captured.append((relative + "/" + file, opened.status))
                }
                guard records.contains(where: { $0.path.hasSuffix(".safetensors") }) else {
                    throw .invalid("\(path)/\(relative): adapter has no .safetensors weights")
                }
                adapterRecords.append(ModelAdapter(
                    name: Self.lastComponent(of: relative), baseModel: config.baseModel, type: config.type, files: records))
                host.progress(done: UInt64(topFiles.count + index + 1), total: total)
            }
            let configured = config?["_name_or_path"]?.stringValue
            defaultName = Self.lastComponent(of: root.path)
            name = nameSetting ?? (configured?.isEmpty == false ? configured! : defaultName)
        } else {
            guard path.hasSuffix(".safetensors") else {
                throw .invalid("\(path): no .safetensors file found (the model plugin reads safetensors weights)")
            }
            let fileName = Self.lastComponent(of: path)
            let opened = try ReadableFile(path: path)
            if let parentKey = host.parentAnnotations()?[Self.filesKeyAnnotation],
               Self.filesKey(shape: "file", name: nameSetting, defaultName: fileName, files: [(fileName, opened.status)],
                             captureStart: captureStart, racyWindow: racyWindow) == parentKey {
                try host.setParentLayer()
                return
            }
            let (record, stored) = try store(opened, as: fileName)
            modelFiles.append(record)
            blobs += stored
            captured.append((fileName, opened.status))
            defaultName = fileName
            name = nameSetting ?? String(fileName.dropLast(".safetensors".count))
        }
        var annotations: [String: String] = [:]
        annotations[Self.filesKeyAnnotation] = Self.filesKey(shape: kind == S_IFDIR ? "directory" : "file", name: nameSetting,
                                                            defaultName: defaultName, files: captured, captureStart: captureStart,
                                                            racyWindow: racyWindow)
        // Each blob once, though files or chunks share it (two identical chunks of zeros).
        var seen = Set<Digest>()
        try host.setLayer(ModelLayer(
            blobs: blobs.filter { seen.insert($0.digest).inserted }, annotations: annotations,
            content: ModelContent(name: name, format: "safetensors", files: modelFiles, adapters: adapterRecords)))
    }

    /// SHA-256 (bare hex) of what a capture of local weights reads: the `model.path` shape
    /// (`directory` or `file`), the `model.name` setting, the directory's or file's own name (the
    /// default model name), and every file's path and stat data in capture order; nil when a
    /// file's timestamps are within the racy window of the capture, so that a write its stat data
    /// cannot show is never missed (``FileStatRecord``).
    static func filesKey(shape: String, name: String?, defaultName: String, files: [(path: String, status: stat)],
                         captureStart: Int64, racyWindow: Int64) -> String? {
        let hasher = SHA256Hasher()
        hasher.update(Array("pfhost.model.files.v2\0\(shape)\0".utf8))
        hasher.update(name.map { Array("name=\($0)\0".utf8) } ?? [0])
        hasher.update(Array("default=\(defaultName)\0".utf8))
        for (path, status) in files {
            guard let record = FileStatRecord.settled(status, now: captureStart, racyWindow: racyWindow) else { return nil }
            hasher.update(Array(path.utf8) + [0] + Array(record.utf8) + [0x0a])
        }
        return hasher.finalize().hex
    }

    /// Records the hosted model: the provider, its name there, and the pinned revision and
    /// endpoint when set (a credential in the endpoint's URL is redacted, as in the world layer).
    private func captureHosted(provider: String) throws(PluginError) {
        guard host.config("path") == nil else {
            throw .invalid("model.path and model.provider are both set: set path for local weights, or provider and name for a hosted model")
        }
        guard !provider.isEmpty else { throw .invalid("model.provider is empty (the provider serving the model, e.g. openai)") }
        let name = try host.requiredConfig("name", meaning: "the model's name at the provider, e.g. gpt-4.1")
        func optional(_ key: String) -> String? { host.config(key).flatMap { $0.isEmpty ? nil : $0 } }
        try host.setLayer(ModelLayer(blobs: [], content: ModelContent(
            name: name, format: ModelContent.hostedFormat, files: [], adapters: [], provider: provider,
            revision: optional("revision"), baseURL: optional("base_url").map { SecretRedactor.redact(value: $0) })))
    }

    /// Stores one open file as `relative`; a `.safetensors` file's header is checked first. A file
    /// of more than ``ModelFile/chunkSize`` bytes is stored as chunks of that size (whole, in a host
    /// built before `put_fd_range`).
    private func store(_ file: ReadableFile, as relative: String) throws(PluginError) -> (ModelFile, [Descriptor]) {
        var tensors: SafetensorsHeader?
        if relative.hasSuffix(".safetensors") { tensors = try SafetensorsHeader(file: file) }
        let mediaType = relative.hasSuffix(".json") ? "application/json" : "application/octet-stream"
        let changedMessage = "\(file.path) changed while it was captured (a model being written?); retry the snapshot"
        let chunkSize = ModelFile.chunkSize
        guard file.size > chunkSize, host.canStoreRanges else {
            let (blob, changed) = try host.putFile(file, mediaType: mediaType)
            guard !changed else { throw .io(changedMessage) }
            let record = ModelFile(path: relative, digest: blob.digest, size: blob.size, tensorCount: tensors?.tensorCount, dtypes: tensors?.dtypes)
            return (record, [blob])
        }
        var chunks: [Descriptor] = []
        var offset: Int64 = 0
        while offset < file.size {
            try host.checkCancelled()
            let count = min(chunkSize, file.size - offset)
            let (blob, changed) = try host.putFile(file, offset: offset, size: count, mediaType: "application/octet-stream")
            guard !changed, blob.size == count else { throw .io(changedMessage) }
            chunks.append(blob)
            offset += count
        }
        // Each chunk's read is checked by the host; a write between two chunks shows here.
        guard !file.changedSinceOpened else { throw .io(changedMessage) }
        let record = ModelFile(path: relative, chunks: chunks.map(\.digest), size: file.size, tensorCount: tensors?.tensorCount, dtypes: tensors?.dtypes)
        return (record, chunks)
    }

    /// Opens `relative` beneath the model directory, following no symlink.
    private func open(_ relative: String, in root: RootDirectory) throws(PluginError) -> ReadableFile {
        guard let file = try root.openFile(Array(relative.utf8)) else {
            throw .io("\(root.path)/\(relative): no such file (removed, or reached through a symlink, which the model plugin does not follow)")
        }
        return file
    }

    /// Regular files directly in the directory `relative` (the root when empty), sorted, with the
    /// stat data listing them gave; hidden ones skipped, a symlink skipped with a warning (never followed).
    private func regularFiles(in root: RootDirectory, under relative: [UInt8]) throws(PluginError) -> [(name: String, status: stat)] {
        var files: [(name: String, status: stat)] = []
        for (name, status) in try entries(of: root, relative) {
            switch status.st_mode & S_IFMT {
            case S_IFREG: files.append((name, status))
            case S_IFLNK:
                let shown = relative.isEmpty ? name : String(decoding: relative, as: UTF8.self) + "/" + name
                host.log(.warning, "\(root.path)/\(shown): skipped: a symlink (the model plugin stores no file outside its directory)")
            default: break
            }
        }
        return files
    }

    /// Adapter directories relative to the model directory, sorted.
    private func adapters(in root: RootDirectory) throws(PluginError) -> [String] {
        var found: [String] = []
        for (name, status) in try entries(of: root, []) where status.st_mode & S_IFMT == S_IFDIR {
            if name == "adapters" {
                for (adapter, inner) in try entries(of: root, Array("adapters".utf8)) where inner.st_mode & S_IFMT == S_IFDIR
                    && hasAdapterConfig(root, "adapters/" + adapter) {
                    found.append("adapters/" + adapter)
                }
            }
            if hasAdapterConfig(root, name) { found.append(name) }
        }
        return found.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    private func hasAdapterConfig(_ root: RootDirectory, _ relative: String) -> Bool {
        (try? root.openFile(Array((relative + "/adapter_config.json").utf8))).flatMap { $0 } != nil
    }

    /// The entries of the directory `relative` beneath the root, sorted by their bytes, hidden ones
    /// skipped; a name that is not UTF-8 is refused (model file names are recorded as text).
    private func entries(of root: RootDirectory, _ relative: [UInt8]) throws(PluginError) -> [(String, stat)] {
        let directory: RootDirectory
        if relative.isEmpty { directory = root } else {
            guard let opened = try root.openDirectory(relative) else {
                throw .io("\(root.display(relative)): no such directory (removed, or a symlink, which is not followed)")
            }
            directory = opened
        }
        var result: [(String, stat)] = []
        for (name, status) in try directory.entries() where name.first != UInt8(ascii: ".") {
            guard let text = String(validating: name, as: UTF8.self) else {
                throw .invalid("\(directory.display(name)): a model file name must be UTF-8")
            }
            result.append((text, status))
        }
        return result
    }

    private func adapterConfig(_ file: ReadableFile) throws(PluginError) -> (baseModel: String, type: String) {
        let object = try Self.jsonObject(file, limit: Self.adapterConfigLimit)
        guard let base = object["base_model_name_or_path"]?.stringValue else {
            throw .invalid("\(file.path): missing base_model_name_or_path")
        }
        return (base, object["peft_type"]?.stringValue ?? "LORA")
    }

    /// The largest `config.json` read (Hugging Face's are a few KiB).
    static let configLimit = 16 << 20
    /// The largest `adapter_config.json` read.
    static let adapterConfigLimit = 1 << 20

    /// The JSON object in `file`, of at most `limit` bytes; errors name the file and, for JSON that
    /// does not parse, the line, column and reason.
    static func jsonObject(_ file: ReadableFile, limit: Int) throws(PluginError) -> [String: AnyJSON] {
        guard file.size <= Int64(limit) else {
            throw .invalid("\(file.path): \(file.size) bytes, more than the \(limit >> 20) MiB a configuration file may have")
        }
        let bytes = try file.read(upTo: limit + 1)
        guard bytes.count <= limit else {
            throw .invalid("\(file.path): more than the \(limit >> 20) MiB a configuration file may have")
        }
        let value: AnyJSON
        do { value = try AnyJSON.parse(bytes) } catch {
            throw .invalid("\(file.path): \(error)")
        }
        guard let object = value.objectValue else { throw .invalid("\(file.path): not a JSON object") }
        return object
    }

    /// `S_IFREG`, `S_IFDIR`, … of what `path` names (symlinks followed: the user named it), or nil
    /// when nothing is there.
    static func kind(of path: String) -> mode_t? {
        guard let info = try? SystemCalls().status(path) else { return nil }
        return info.st_mode & S_IFMT
    }

    /// The last component of a path (`a/b/c.safetensors` → `c.safetensors`).
    static func lastComponent(of path: String) -> String {
        let trimmed = path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path
        return trimmed.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? trimmed
    }
}
