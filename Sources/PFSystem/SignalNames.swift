import CPFShims

/// Signal numbers to their names, as `kill -l` spells them.
enum SignalNames {
    /// `SIGSEGV`; `signal N` when the C library knows no name for `number`.
    static func name(_ number: Int32) -> String {
        guard let abbreviation = pf_signal_abbreviation(number) else { return "signal \(number)" }
        return "SIG" + String(cString: abbreviation)
    }
}
