import PFModel
import PFRegistry

/// The stderr line `push` and `pull` end with.
enum TransferSummary {
    /// `skipped` says what the blobs not transferred were (the registry's, for a push; the store's, for a pull).
    static func print(_ report: TransferReport, verb: String, direction: String, skipped: String) {
        var standardError = StandardError()
        let snapshots = report.snapshots.count
        var line = "pfhost: \(verb) \(snapshots) snapshot\(snapshots == 1 ? "" : "s"): "
            + "\(report.blobsTransferred) blob\(report.blobsTransferred == 1 ? "" : "s") \(direction) (\(Formatting.bytes(report.bytesTransferred))), "
            + "\(report.blobsSkipped + report.blobsMounted) \(skipped) (\(Formatting.bytes(report.bytesSkipped)))"
        if report.blobsMounted > 0 { line += ", \(report.blobsMounted) mounted" }
        if report.resumed > 0 { line += ", resumed \(report.resumed) time\(report.resumed == 1 ? "" : "s") after a broken connection" }
        if !report.present.isEmpty { line += "; history from \(Formatting.short(report.present[0])) on was there already" }
        if !report.missing.isEmpty { line += "; \(report.missing.count) ancestor\(report.missing.count == 1 ? "" : "s") not in the source (history stops there)" }
        Swift.print(line, to: &standardError)
    }
}
