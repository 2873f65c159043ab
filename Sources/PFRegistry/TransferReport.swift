import PFModel

/// What a push or a pull did, for the command's output and `--json`.
///
/// ```swift
/// let report = try pusher.push(id)
/// print(report.blobsTransferred, report.bytesTransferred, report.present)
/// ```
public struct TransferReport: Sendable {
    /// The snapshot asked for.
    public var id: Digest?
    /// Snapshots transferred, oldest first.
    public var snapshots: [Digest] = []
    /// Ancestors the other side already had (the walk stopped there).
    public var present: [Digest] = []
    /// Ancestors the source does not have (history that stops there).
    public var missing: [Digest] = []
    /// Blobs sent or received.
    public var blobsTransferred = 0
    /// Their bytes (bytes sent again after a broken connection count again).
    public var bytesTransferred: Int64 = 0
    /// Blobs the other side had already.
    public var blobsSkipped = 0
    /// Their bytes, with those of blobs mounted.
    public var bytesSkipped: Int64 = 0
    /// Blobs the registry mounted from another repository instead of receiving them.
    public var blobsMounted = 0
    /// Manifests written or read.
    public var manifests = 0
    /// Times a transfer resumed or started over after a broken connection.
    public var resumed = 0

    /// The report as JSON (`--json`).
    public var json: JSONValue {
        .object([
            "id": id.map { .string($0.description) } ?? .null,
            "snapshots": .array(snapshots.map { .string($0.description) }),
            "present": .array(present.map { .string($0.description) }),
            "missing_ancestors": .array(missing.map { .string($0.description) }),
            "blobs": .object([
                "transferred": .int(Int64(blobsTransferred)), "bytes": .int(bytesTransferred),
                "skipped": .int(Int64(blobsSkipped)), "skipped_bytes": .int(bytesSkipped),
                "mounted": .int(Int64(blobsMounted)),
            ]),
            "manifests": .int(Int64(manifests)),
            "resumed": .int(Int64(resumed)),
        ])
    }
}
