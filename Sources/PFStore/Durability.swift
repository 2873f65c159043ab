/// How hard the store works to make a snapshot survive a power loss.
public enum Durability: String, Sendable, CaseIterable {
    /// No fsync at all. Writes stay atomic (rename) but a power loss may lose recent snapshots.
    case none
    /// One flush phase per snapshot: blobs are written to `ingest/`, one `syncfs` flushes them
    /// all, they are renamed into `blobs/`, then the index is written, fsynced and renamed.
    case batch
    /// Every blob is fsynced before its rename and the blobs directory after it.
    case strict
}
