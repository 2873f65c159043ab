import Synchronization

/// Bytes of blobs done out of those a push or pull has to check, reported as they move (to draw a
/// progress line). Blobs the other side has count as done at once.
final class TransferProgress: Sendable {
    private let done = Atomic<Int64>(0)
    private let total: Int64
    private let report: (@Sendable (_ done: Int64, _ total: Int64) -> Void)?

    /// Progress over `blobs`, whose sizes (from a registry's manifests, so anything) are summed
    /// saturating at `Int64.max`.
    init(blobs: [GraphNode], report: (@Sendable (_ done: Int64, _ total: Int64) -> Void)?) {
        var total: Int64 = 0
        for blob in blobs {
            let (sum, overflow) = total.addingReportingOverflow(blob.size)
            total = overflow ? Int64.max : sum
        }
        self.total = total
        self.report = report
    }

    /// Adds `bytes` to what is done and reports it.
    func advance(_ bytes: Int64) {
        guard let report else { return }
        let now = done.wrappingAdd(bytes, ordering: .relaxed).newValue
        report(min(max(now, 0), total), total)
    }
}
