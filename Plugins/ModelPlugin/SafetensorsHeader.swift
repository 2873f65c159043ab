import PFModel
import PFPluginKit

/// The header of a safetensors file, read and checked without reading the tensors.
///
/// Format: an unsigned 64-bit little-endian length N, then N bytes of JSON mapping each tensor
/// name to `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets relative to the end of
/// the header), plus an optional `__metadata__` map of strings. The tensors must tile the data
/// region exactly: sorted by offset, each starting where the previous ended, the last ending at
/// the end of the file, each as long as its shape and dtype say.
struct SafetensorsHeader {
    /// Bytes per element of each dtype.
    static let dtypeSizes: [String: Int] = [
        "BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
        "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8,
    ]
    static let maximumHeaderBytes = 100 << 20

    let tensorCount: Int
    let dtypes: [String]

    /// Reads and checks the header of `file` from its start; errors name the file and the tensor.
    init(file: ReadableFile) throws(PluginError) {
        let path = file.path
        let fileSize = UInt64(clamping: file.size)
        guard fileSize >= 8, let prefix = try? file.read(upTo: 8), prefix.count == 8 else {
            throw .invalid("\(path): truncated safetensors file (\(fileSize) bytes, the 8-byte header length is missing)")
        }
        let length = try Self.headerLength(prefix, fileSize: fileSize, path: path)
        guard let headerData = try? file.read(upTo: length), headerData.count == length else {
            throw .io("\(path): the safetensors header cannot be read")
        }
        try self.init(header: headerData, dataSize: Int64(fileSize) - 8 - Int64(length), path: path)
    }

    /// Checks a whole safetensors file held in memory (for tests and fuzzing), as ``init(file:)``
    /// checks one on disk; errors call it `path`.
    init(bytes: [UInt8], path: String) throws(PluginError) {
        let fileSize = UInt64(bytes.count)
        guard fileSize >= 8 else {
            throw .invalid("\(path): truncated safetensors file (\(fileSize) bytes, the 8-byte header length is missing)")
        }
        let length = try Self.headerLength(Array(bytes[0..<8]), fileSize: fileSize, path: path)
        try self.init(header: Array(bytes[8..<(8 + length)]), dataSize: Int64(fileSize) - 8 - Int64(length), path: path)
    }

    /// The header length the 8 bytes of `prefix` give, checked against the limit and `fileSize`.
    private static func headerLength(_ prefix: [UInt8], fileSize: UInt64, path: String) throws(PluginError) -> Int {
        let length = prefix.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard length <= UInt64(Self.maximumHeaderBytes) else {
            throw .invalid("\(path): safetensors header length \(length) exceeds \(Self.maximumHeaderBytes) bytes")
        }
        // No overflow: length is at most 100 MiB and fileSize at least 8.
        guard 8 + length <= fileSize else {
            throw .invalid("\(path): truncated safetensors file: the header says \(length) bytes but only \(fileSize - 8) follow")
        }
        return Int(length)
    }

    /// Checks the JSON `header` and that its tensors tile the `dataSize` bytes after it.
    private init(header headerData: [UInt8], dataSize: Int64, path: String) throws(PluginError) {
        let header: JSONValue
        do { header = try JSONParser.parse(headerData) } catch {
            throw .invalid("\(path): the safetensors header is not valid JSON: \(error)")
        }
        guard let entries = header.objectValue else { throw .invalid("\(path): the safetensors header is not a JSON object") }
        var spans: [(begin: Int64, end: Int64, name: String)] = []
        var dtypes = Set<String>()
        for (name, value) in entries where name != "__metadata__" {
            guard let dtype = value["dtype"]?.stringValue, let size = Self.dtypeSizes[dtype] else {
                throw .invalid("\(path): tensor '\(name)' has an unknown or missing dtype")
            }
            guard case .array(let shape)? = value["shape"], let dims = Self.integers(shape), dims.allSatisfy({ $0 >= 0 }) else {
                throw .invalid("\(path): tensor '\(name)' has no valid shape")
            }
            guard case .array(let offsets)? = value["data_offsets"], let pair = Self.integers(offsets), pair.count == 2,
                  pair[0] >= 0, pair[0] <= pair[1] else {
                throw .invalid("\(path): tensor '\(name)' has no valid data_offsets")
            }
            let (elements, overflow) = dims.reduce((Int64(1), false)) { acc, dim in
                let product = acc.0.multipliedReportingOverflow(by: dim)
                return (product.partialValue, acc.1 || product.overflow)
            }
            // Shapes come from the file: the product is checked, and a wrapped one never compared.
            let (bytes, bytesOverflow) = elements.multipliedReportingOverflow(by: Int64(size))
            guard !overflow, !bytesOverflow, bytes == pair[1] - pair[0] else {
                let needs = overflow || bytesOverflow ? "more than 2^63" : "\(bytes)"
                throw .invalid("\(path): tensor '\(name)' spans \(pair[1] - pair[0]) bytes but its shape \(dims) of \(dtype) needs \(needs)")
            }
            spans.append((pair[0], pair[1], name))
            dtypes.insert(dtype)
        }
        if let metadata = entries["__metadata__"] {
            guard let map = metadata.objectValue, map.values.allSatisfy({ $0.stringValue != nil }) else {
                throw .invalid("\(path): __metadata__ must map strings to strings")
            }
        }
        var expected: Int64 = 0
        for span in spans.sorted(by: { ($0.begin, $0.end) < ($1.begin, $1.end) }) {
            guard span.begin == expected else {
                throw .invalid("\(path): tensor '\(span.name)' starts at data offset \(span.begin), expected \(expected) (tensors must not overlap or leave gaps)")
            }
            expected = span.end
        }
        guard expected == dataSize else {
            throw .invalid("\(path): the tensors cover \(expected) bytes of data but the file holds \(dataSize) after the header")
        }
        tensorCount = spans.count
        self.dtypes = dtypes.sorted()
    }

    private static func integers(_ values: [JSONValue]) -> [Int64]? {
        var result: [Int64] = []
        for value in values {
            guard case .int(let number) = value else { return nil }
            result.append(number)
        }
        return result
    }
}
