import PFModel

/// Human-readable figures for the CLI's summaries.
enum Formatting {
    /// `1.5 MiB`, `312 B`.
    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(count) B" }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }

    /// The sum of `sizes`, saturated at the ends of `Int64` (sizes read from a store may say anything).
    static func total(_ sizes: some Sequence<Int64>) -> Int64 {
        var total: Int64 = 0
        for size in sizes {
            let (sum, overflow) = total.addingReportingOverflow(size)
            total = overflow ? (size < 0 ? Int64.min : Int64.max) : sum
        }
        return total
    }

    /// The first 12 hex digits of a content id, as `log` prints it.
    static func short(_ digest: Digest) -> String {
        String(digest.hex.prefix(12))
    }

    /// `text` padded with spaces to `width` characters.
    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    /// `count` and `noun`, plural unless the count is 1: `1 tag`, `0 tags`, `2 blobs`.
    static func count(_ count: some BinaryInteger, _ noun: String) -> String {
        "\(count) \(noun)\(count == 1 ? "" : "s")"
    }
}
