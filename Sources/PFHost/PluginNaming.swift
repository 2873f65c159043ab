/// The forms a plugin's `id` and `version` must have: a reverse-DNS name and a semantic version.
///
/// ```swift
/// PluginNaming.idProblem("org.example.world.fs")   // nil
/// PluginNaming.idProblem("my plugin!")             // "… is not reverse-DNS …"
/// PluginNaming.versionProblem("1.2.0-rc.1+build.5")  // nil
/// PluginNaming.versionProblem("latest")            // "… is not a semantic version …"
/// ```
public enum PluginNaming {
    /// Why `id` is not a reverse-DNS name, or nil: two or more labels separated by dots, each 1 to 63
    /// ASCII letters, digits, `-` or `_`, starting and ending with a letter or digit; 255 bytes at most.
    public static func idProblem(_ id: String) -> String? {
        let explain = "is not a reverse-DNS name (dot-separated labels of letters, digits, - and _, e.g. org.example.world.fs)"
        guard id.utf8.count <= 255 else { return "is longer than 255 bytes" }
        let labels = id.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return explain }
        for label in labels {
            let bytes = Array(label.utf8)
            guard (1...63).contains(bytes.count), bytes.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }),
                  isAlphanumeric(bytes.first!), isAlphanumeric(bytes.last!) else { return explain }
        }
        return nil
    }

    /// Why `version` is not a semantic version (semver.org 2.0.0), or nil: `MAJOR.MINOR.PATCH`
    /// without leading zeros, then optionally `-PRERELEASE` and `+BUILD` of dot-separated identifiers.
    public static func versionProblem(_ version: String) -> String? {
        let explain = "is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.2.0 or 1.2.0-rc.1)"
        var rest = Substring(version)
        var build: Substring?
        if let plus = rest.firstIndex(of: "+") {
            build = rest[rest.index(after: plus)...]
            rest = rest[..<plus]
        }
        var prerelease: Substring?
        if let dash = rest.firstIndex(of: "-") {
            prerelease = rest[rest.index(after: dash)...]
            rest = rest[..<dash]
        }
        let core = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard core.count == 3, core.allSatisfy({ isNumber($0) }) else { return explain }
        if let prerelease {
            let identifiers = prerelease.split(separator: ".", omittingEmptySubsequences: false)
            guard identifiers.allSatisfy({ isIdentifier($0) && (!$0.utf8.allSatisfy(isDigit) || isNumber($0)) }) else { return explain }
        }
        if let build {
            guard build.split(separator: ".", omittingEmptySubsequences: false).allSatisfy(isIdentifier) else { return explain }
        }
        return nil
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    /// Digits without a leading zero (except "0" itself).
    private static func isNumber(_ text: Substring) -> Bool {
        let bytes = Array(text.utf8)
        return !bytes.isEmpty && bytes.count <= 18 && bytes.allSatisfy(isDigit) && (bytes.count == 1 || bytes[0] != UInt8(ascii: "0"))
    }

    /// A non-empty run of letters, digits and `-`.
    private static func isIdentifier(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }
}
