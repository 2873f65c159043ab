import CPFPluginABI
import Foundation
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
/// `model.name` names the model (default: `config.json`'s `_name_or_path`, else the directory name).
struct ModelCapture {
    let host: PluginHost
    private let files = FileManager.default

    init(host: PluginHost) { self.host = host }

    func run() throws(PluginError) {
        let path = try host.requiredConfig("path", meaning: "a model directory or a .safetensors file")
        var isDirectory: ObjCBool = false
        guard files.fileExists(atPath: path, isDirectory: &isDirectory) else { throw .io("\(path): no such file or directory") }
        let root = isDirectory.boolValue ? path : (path as NSString).deletingLastPathComponent
        let topFiles = isDirectory.boolValue ? try regularFiles(in: path) : [(path as NSString).lastPathComponent]
        guard topFiles.contains(where: { $0.hasSuffix(".safetensors") }) else {
            throw .invalid("\(path): no .safetensors file found (the model plugin reads safetensors weights)")
        }
        let adapterDirectories = isDirectory.boolValue ? try adapters(in: path) : []
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
                name: (relative as NSString).lastPathComponent, baseModel: config.baseModel, type: config.type, files: adapterFiles))
            host.progress(done: UInt64(topFiles.count + index + 1), total: total)
        }
        let name = host.config("name") ?? modelName(root: root, isDirectory: isDirectory.boolValue)
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

    /// Regular files directly in `directory`, sorted, hidden ones skipped.
    private func regularFiles(in directory: String) throws(PluginError) -> [String] {
        try entries(of: directory).filter { name in
            var isDirectory: ObjCBool = false
            return files.fileExists(atPath: directory + "/" + name, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
    }

    /// Adapter directories relative to the model directory, sorted.
    private func adapters(in directory: String) throws(PluginError) -> [String] {
        var found: [String] = []
        for name in try entries(of: directory) {
            if files.fileExists(atPath: "\(directory)/\(name)/adapter_config.json") { found.append(name) }
        }
        if files.fileExists(atPath: directory + "/adapters") {
            for name in try entries(of: directory + "/adapters")
            where files.fileExists(atPath: "\(directory)/adapters/\(name)/adapter_config.json") {
                found.append("adapters/" + name)
            }
        }
        return found
    }

    private func entries(of directory: String) throws(PluginError) -> [String] {
        do { return try files.contentsOfDirectory(atPath: directory).filter { !$0.hasPrefix(".") }.sorted() } catch {
            throw .io("\(directory): cannot be listed: \(error.localizedDescription)")
        }
    }

    private func adapterConfig(_ path: String) throws(PluginError) -> (baseModel: String, type: String) {
        guard let data = files.contents(atPath: path) else { throw .io("\(path): cannot be read") }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw .invalid("\(path): not a JSON object")
        }
        guard let base = object["base_model_name_or_path"] as? String else {
            throw .invalid("\(path): missing base_model_name_or_path")
        }
        return (base, (object["peft_type"] as? String) ?? "LORA")
    }

    private func modelName(root: String, isDirectory: Bool) -> String {
        if isDirectory, let data = files.contents(atPath: root + "/config.json"),
           let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
           let name = object["_name_or_path"] as? String, !name.isEmpty {
            return name
        }
        return (root as NSString).lastPathComponent
    }
}
