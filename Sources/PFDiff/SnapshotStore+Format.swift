import PFModel
import PFStore

extension SnapshotStore {
    /// Reads a JSON blob of a layer (a tree or cache index) through the verified reader and parses
    /// it with `parse`; nil, with a note saying why, when it is larger than `limit` or not in the
    /// format `parse` reads (a blob another plugin wrote is not damage).
    ///
    /// - Parameter what: names the blob in notes, e.g. `A's tree index`.
    /// - Parameter loss: what the caller leaves out without it, e.g. `files not compared`.
    /// - Throws: ``StoreError`` when the blob is missing or damaged.
    func readFormat<Value>(_ blob: LayerBlob, what: String, loss: String, limit: Int, notes: inout [String],
                           parse: (JSONValue) throws(FormatProblem) -> Value) throws(StoreError) -> Value? {
        guard let bytes = try readBounded(blob.digest, expectedSize: blob.size, limit: limit) else {
            notes.append("\(loss): \(what) \(blob.digest) is larger than diff reads (\(limit >> 20) MiB)")
            return nil
        }
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch {
            notes.append("\(loss): \(what) \(blob.digest) is not JSON: \(error)")
            return nil
        }
        do { return try parse(value) } catch {
            notes.append("\(loss): \(what) \(blob.digest) is not one this pfhost reads: \(error.reason)")
            return nil
        }
    }
}
