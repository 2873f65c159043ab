import Synchronization

/// A ``TransferReport`` the threads of a ``TransferPool`` add to.
final class SharedReport: Sendable {
    private let report: Mutex<TransferReport>

    init(_ report: TransferReport) { self.report = Mutex(report) }

    /// Changes the report under its lock.
    func update(_ body: (inout TransferReport) -> Void) { report.withLock { body(&$0) } }

    /// The report as it is now.
    var value: TransferReport { report.withLock { $0 } }
}
