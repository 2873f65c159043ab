extension ModelContent {
    /// What makes this content inconsistent with the layer's blobs (`blobs`, the layer's descriptors,
    /// whose sizes count), one message per problem, each naming the file: a path that is not plain
    /// and relative (empty, absolute, or with an empty, `.` or `..` component), recorded twice, or
    /// under another file's path (`d` and `d/x`); a negative size; a file naming both a digest and
    /// chunks or neither; an empty chunk list; a blob the layer does not list; a whole file whose blob
    /// is not its size, or chunks whose sizes do not add up to it.
    ///
    /// The host refuses such a layer at capture, `pfhost verify` reports it, and the model plugin's
    /// restore refuses it before it writes anything. It reads no blob.
    ///
    /// ```swift
    /// for problem in layer.content.problems(blobs: layer.blobs) { print(problem) }
    /// ```
    public func problems(blobs descriptors: [Descriptor]) -> [String] {
        let blobs = Dictionary(descriptors.map { ($0.digest, $0.size) }, uniquingKeysWith: { first, _ in first })
        let all = files + adapters.flatMap(\.files)
        let paths = Set(all.map(\.path))
        var seen = Set<String>()
        var problems: [String] = []
        for file in all {
            func problem(_ text: String) { problems.append("model file '\(DisplayText.escaped(file.path))': \(text)") }
            if !Self.isPlainRelative(file.path) {
                problem("not a path inside the model directory (it is empty or absolute, or has an empty, '.' or '..' component)")
            }
            if !seen.insert(file.path).inserted { problem("recorded twice") }
            // A directory on the way to this file cannot also be a file.
            var prefix = Substring(file.path)
            while let slash = prefix.lastIndex(of: "/") {
                prefix = prefix[..<slash]
                if paths.contains(String(prefix)) { problem("'\(DisplayText.escaped(String(prefix)))', a directory on its way, is also recorded as a file") }
            }
            if file.size < 0 { problem("a negative size (\(file.size))") }
            switch (file.digest, file.chunks) {
            case (let digest?, nil):
                if let size = blobs[digest] {
                    if size != file.size { problem("its blob \(digest) has \(size) bytes, not the \(file.size) it records") }
                } else {
                    problem("its blob \(digest) is not one of the layer's blobs")
                }
            case (nil, let chunks?):
                guard !chunks.isEmpty else {
                    problem("an empty list of chunks")
                    continue
                }
                var total: Int64 = 0
                var summed = true
                for chunk in chunks {
                    guard let size = blobs[chunk] else {
                        problem("its chunk \(chunk) is not one of the layer's blobs")
                        summed = false
                        break
                    }
                    let (sum, overflow) = total.addingReportingOverflow(size)
                    guard !overflow else {
                        problem("its chunks hold more bytes than a file can (their sizes overflow)")
                        summed = false
                        break
                    }
                    total = sum
                }
                if summed, total != file.size { problem("its chunks hold \(total) bytes, not the \(file.size) it records") }
            case (nil, nil): problem("it names no blob: a file records its digest or its chunks")
            default: problem("it names both a digest and chunks: a file records one or the other")
            }
        }
        return problems
    }

    /// Whether `path` is bytes separated by `/`, not absolute, with no empty, `.` or `..` component.
    static func isPlainRelative(_ path: String) -> Bool {
        !path.isEmpty && !path.utf8.contains(0)
            && path.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." }
    }
}
