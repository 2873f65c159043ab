import PFModel
import PFPluginKit
import PFSystem

/// Restores the model layer as `TARGET/model/`, the model directory as the capture read it: every
/// file at its recorded path (`config.json`, the weights, the tokenizer; each adapter's files under
/// its directory, e.g. `adapters/lora-tools/`), byte for byte, and sets `model.path` to it and
/// `model.name` to the recorded name (a model captured from one `.safetensors` file comes back as a
/// directory holding that file, which captures to the same blobs). A hosted model restores no file:
/// its `provider`, `name`, `revision` and `base_url` go to `pfhost.json`, and it is reported.
struct ModelRestore {
    let host: RestoreHost

    func run() throws(PluginError) {
        let layer = try host.layer(ModelLayer.self)
        let content = layer.content
        try host.setRestoredConfig("name", content.name)
        if let provider = content.provider {
            try host.setRestoredConfig("provider", provider)
            if let revision = content.revision { try host.setRestoredConfig("revision", revision) }
            if let baseURL = content.baseURL { try host.setRestoredConfig("base_url", baseURL) }
            host.report("hosted", "\(provider) serves \(content.name)\(content.revision.map { " (\($0))" } ?? ""); no weights to restore")
            return
        }
        // Refused before anything is written: chunks that do not add up, a path that leads out.
        if let problem = content.problems(blobs: layer.blobs).first {
            throw .invalid(problem + "; nothing was written outside TARGET/model")
        }
        let files = content.files + content.adapters.flatMap(\.files)
        var directories = Set<[UInt8]>()
        for (number, file) in files.enumerated() {
            try host.checkCancelled()
            let path = Array(file.path.utf8)
            guard SystemCalls.isPlainRelative(path) else {
                throw .invalid("model file '\(file.path)': not a path inside the model directory (it is empty or absolute, or has an empty, '.' or '..' component); nothing was written outside TARGET/model")
            }
            // Adapters' directories, created on the way.
            var prefix: [UInt8] = []
            for component in path.split(separator: UInt8(ascii: "/")).dropLast() {
                if !prefix.isEmpty { prefix.append(UInt8(ascii: "/")) }
                prefix.append(contentsOf: component)
                if directories.insert(prefix).inserted { try host.makeDirectory(prefix, mode: 0o777) }
            }
            do throws(PluginError) {
                // One or the other, as problems(blobs:) checked.
                if let chunks = file.chunks {
                    try restoreChunks(path, chunks, size: file.size)
                } else if let digest = file.digest {
                    try host.restoreFile(path, from: digest)
                }
            } catch {
                throw PluginError(code: error.code, message: "model file '\(file.path)': \(error.message)")
            }
            host.progress(done: UInt64(number + 1), total: UInt64(files.count))
        }
        try host.setRestoredConfig("path", ".", isPath: true)
    }

    /// Writes the chunks one after another into a new file of `size` bytes: that they add up to it
    /// was checked (``ModelContent/problems(blobs:)``, against the sizes the host checks each blob has).
    private func restoreChunks(_ path: [UInt8], _ chunks: [Digest], size: Int64) throws(PluginError) {
        let file = try host.createFile(path, mode: 0o644)
        // A hostile snapshot may repeat one stored chunk until the file claims terabytes.
        try file.reserve(size)
        for chunk in chunks {
            try host.checkCancelled()
            try file.copy(from: host.openBlob(chunk))
        }
        try file.close()
    }
}
