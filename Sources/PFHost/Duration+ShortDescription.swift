extension Duration {
    /// `600s`, `1.5s`, `250ms`: how messages name timeouts and grace periods.
    var shortDescription: String {
        let (seconds, attoseconds) = components
        let milliseconds = attoseconds / 1_000_000_000_000_000
        if milliseconds == 0 { return "\(seconds)s" }
        if seconds == 0 { return "\(milliseconds)ms" }
        return "\(Double(seconds) + Double(milliseconds) / 1000)s"
    }
}
