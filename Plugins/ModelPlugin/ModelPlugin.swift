import CPFPluginABI
#if canImport(Glibc)
import Glibc
#endif
import PFModel
import PFPluginKit

nonisolated(unsafe) private let table = PluginEntry.makeTable(
    kind: .model, id: "dev.pfhost.model.safetensors", version: "1.0.0",
    description: "Stores a safetensors model directory and its LoRA adapters, checking every header"
) { host, context in
    PluginEntry.run(host, context, kind: .model) { host throws(PluginError) in try ModelCapture(host: host).run() }
}

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
/// for one file, its name without `.safetensors`).
struct ModelCapture {
    let host: PluginHost

    func run() throws(PluginError) {
        let path = try host.requiredConfig("path", meaning: "a model directory or a .safetensors file")
        guard let kind = Self.kind(of: path) else { throw .io("\(path): no such file or directory") }
        let isDirectory = kind == S_IFDIR
        let root = isDirectory ? path : Self.directory(of: path)
        let topFiles = isDirectory ? try regularFiles(in: path) : [Self.lastComponent(of: path)]
        guard topFiles.contains(where: { $0.hasSuffix(".safetensors") }) else {
            throw .invalid("\(path): no .safetensors file found (the model plugin reads safetensors weights)")
        }
        let adapterDirectories = isDirectory ? try adapters(in: path) : []
        let total = UInt64(topFiles.count + adapterDirectories.count)
        var blobs: [Descriptor] = []
        var modelFiles: [ModelFile] = []
        for (index, name) in topFiles.enumerated() {
            try host.checkCancelled()
            let (file, blob) = try store(root + "/" + name, as: name)
            modelFiles.append(file)
            blobs.append(blob)
            host.progress(done: UInt64(index + 1), total: total)
        }
        var adapterRecords: [ModelAdapter] = []
        for (index, relative) in adapterDirectories.enumerated() {
            try host.checkCancelled()
            let directory = path + "/" + relative
            let config = try adapterConfig(directory + "/adapter_config.json")
            var adapterFiles: [ModelFile] = []
            for name in try regularFiles(in: directory) {
                let (file, blob) = try store(directory + "/" + name, as: relative + "/" + name)
                adapterFiles.append(file)
                blobs.append(blob)
            }
            guard adapterFiles.contains(where: { $0.path.hasSuffix(".safetensors") }) else {
                throw .invalid("\(directory): adapter has no .safetensors weights")
            }
            adapterRecords.append(ModelAdapter(
                name: Self.lastComponent(of: relative), baseModel: config.baseModel, type: config.type, files: adapterFiles))
            host.progress(done: UInt64(topFiles.count + index + 1), total: total)
        }
        let name = host.config("name")
            ?? (isDirectory ? modelName(directory: path) : String(Self.lastComponent(of: path).dropLast(".safetensors".count)))
        try host.setLayer(ModelLayer(
            blobs: blobs,
            content: ModelContent(name: name, format: "safetensors", files: modelFiles, adapters: adapterRecords)))
    }

    /// Stores one file; a `.safetensors` file's header is checked first.
    private func store(_ path: String, as relative: String) throws(PluginError) -> (ModelFile, Descriptor) {
        var tensors: SafetensorsHeader?
        if path.hasSuffix(".safetensors") { tensors = try SafetensorsHeader(path: path) }
        let mediaType = path.hasSuffix(".json") ? "application/json" : "application/octet-stream"
        let blob = try host.putFile(path, mediaType: mediaType)
        let file = ModelFile(path: relative, digest: blob.digest, size: blob.size, tensorCount: tensors?.tensorCount, dtypes: tensors?.dtypes)
        return (file, blob)
    }

    /// Regular files directly in `directory`, sorted, hidden ones skipped (symlinks followed).
    private func regularFiles(in directory: String) throws(PluginError) -> [String] {
        try entries(of: directory).filter { Self.kind(of: directory + "/" + $0) == S_IFREG }
    }

    /// Adapter directories relative to the model directory, sorted.
    private func adapters(in directory: String) throws(PluginError) -> [String] {
        var found: [String] = []
        for name in try entries(of: directory) where Self.kind(of: "\(directory)/\(name)/adapter_config.json") != nil {
            found.append(name)
        }
        if Self.kind(of: directory + "/adapters") == S_IFDIR {
            for name in try entries(of: directory + "/adapters")
            where Self.kind(of: "\(directory)/adapters/\(name)/adapter_config.json") != nil {
                found.append("adapters/" + name)
            }
        }
        return found
    }

    /// The names in `directory`, sorted by their bytes, hidden ones skipped.
    private func entries(of directory: String) throws(PluginError) -> [String] {
        try DirectoryListing.names(in: directory).filter { !$0.hasPrefix(".") }
    }

    private func adapterConfig(_ path: String) throws(PluginError) -> (baseModel: String, type: String) {
        let bytes = try ReadableFile.contents(of: path)
        guard let object = (try? AnyJSON.parse(bytes))?.objectValue else {
            throw .invalid("\(path): not a JSON object")
        }
        guard let base = object["base_model_name_or_path"]?.stringValue else {
            throw .invalid("\(path): missing base_model_name_or_path")
        }
        return (base, object["peft_type"]?.stringValue ?? "LORA")
    }

    /// `config.json`'s `_name_or_path`, else the directory's name.
    private func modelName(directory: String) -> String {
        if let bytes = try? ReadableFile.contents(of: directory + "/config.json"),
           let name = (try? AnyJSON.parse(bytes))?["_name_or_path"]?.stringValue, !name.isEmpty {
            return name
        }
        return Self.lastComponent(of: directory)
    }

    /// `S_IFREG`, `S_IFDIR`, … of what `path` names (symlinks followed), or nil when nothing is there.
    static func kind(of path: String) -> mode_t? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return info.st_mode & S_IFMT
    }

    /// The last component of a path (`a/b/c.safetensors` → `c.safetensors`).
    static func lastComponent(of path: String) -> String {
        let trimmed = path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path
        return trimmed.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? trimmed
    }

    /// The directory part of a path to a file (`a/b/c.safetensors` → `a/b`; `c.safetensors` → `.`).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
