import PFSystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension SnapshotStore {
    /// Removes the temporary files the process `pid` left in `ingest/`: the blobs it was writing
    /// (`blob-<pid>-<random>.tmp`) and its half-written stat cache (`stat-cache.v1.<pid>.tmp`), as a
    /// process that was killed, or crashed, leaves them. Blobs it finished are not touched: they are
    /// in `blobs/sha256/`, named by their content.
    ///
    /// Call it only once `pid` has ended, and before its pid can be reused: a child that has been
    /// waited for with `WNOWAIT` but not yet reaped (see `SystemCalls.waitForEnd(of:blocking:)`).
    ///
    /// ```swift
    /// _ = try system.waitForEnd(of: child)
    /// let removed = try store.removeTemporaryFiles(ofProcess: child)
    /// system.reap(child)
    /// ```
    ///
    /// - Returns: how many files were removed.
    /// - Throws: ``StoreError/io(step:_:)`` when `ingest/` cannot be listed or a file cannot be removed.
    @discardableResult
    public func removeTemporaryFiles(ofProcess pid: pid_t) throws(StoreError) -> Int {
        let blobPrefix = "blob-\(pid)-"
        let statCacheName = "stat-cache.v1.\(pid).tmp"
        let names = try step("listing \(ingestPath)") { () throws(SystemCallError) in try system.listDirectory(ingestPath) }
        var removed = 0
        for name in names where (name.hasPrefix(blobPrefix) && name.hasSuffix(".tmp")) || name == statCacheName {
            let path = ingestPath + "/" + name
            try step("removing \(path)") { () throws(SystemCallError) in try system.unlink(path) }
            removed += 1
        }
        return removed
    }
}
