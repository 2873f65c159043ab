import PFModel

/// Where a snapshot is in a registry: `registry[:port]/repository[:tag|@digest]`, the form ORAS
/// and skopeo's `docker://` take.
///
/// ```swift
/// let reference = try RegistryReference(parsing: "localhost:5000/agents/support:v3")
/// // reference.registry == "localhost:5000", .repository == "agents/support", .tag == "v3"
/// ```
public struct RegistryReference: Sendable, Hashable, CustomStringConvertible {
    /// The registry's host and optional port, as given.
    public var registry: String
    /// The repository: lowercase path components separated by `/`.
    public var repository: String
    /// The tag, if one was given.
    public var tag: String?
    /// The manifest digest, if one was given (`@sha256:…`).
    public var digest: Digest?

    /// Parses `text`.
    ///
    /// - Throws: ``RegistryError/invalidReference(_:reason:)`` naming what is wrong.
    public init(parsing text: String) throws(RegistryError) {
        func invalid(_ reason: String) -> RegistryError { .invalidReference(text, reason: reason) }
        var rest = Substring(text)
        if rest.hasPrefix("docker://") { rest = rest.dropFirst("docker://".count) }
        if let at = rest.firstIndex(of: "@") {
            do { digest = try Digest(parsing: String(rest[rest.index(after: at)...])) } catch {
                throw invalid("the part after '@' is not a sha256 digest: \(error)")
            }
            rest = rest[..<at]
        }
        guard let slash = rest.firstIndex(of: "/") else {
            throw invalid("it names no repository (no '/' after the registry)")
        }
        registry = String(rest[..<slash])
        var path = rest[rest.index(after: slash)...]
        if let colon = path.lastIndex(of: ":"), !path[colon...].contains("/") {
            let tagText = String(path[path.index(after: colon)...])
            guard Self.isValidTag(tagText) else {
                throw invalid("tag '\(DisplayText.escaped(tagText))' is not 1 to 128 of [A-Za-z0-9_.-] starting with a letter, digit or '_'")
            }
            tag = tagText
            path = path[..<colon]
        }
        repository = String(path)
        guard Self.isValidHost(registry) else {
            throw invalid("'\(registry)' is not a registry host[:port]")
        }
        guard !repository.isEmpty, repository.utf8.count <= 255,
              repository.split(separator: "/", omittingEmptySubsequences: false).allSatisfy(Self.isValidPathComponent) else {
            throw invalid("repository '\(repository)' must be lowercase letters and digits, separated by '.', '_', '-' or '/'")
        }
    }

    /// A reference to `digest` in the same repository.
    public func with(digest: Digest) -> RegistryReference {
        var copy = self
        copy.tag = nil
        copy.digest = digest
        return copy
    }

    public var description: String {
        registry + "/" + repository + (tag.map { ":" + $0 } ?? "") + (digest.map { "@" + $0.description } ?? "")
    }

    /// What the registry's manifest endpoint takes: the digest when there is one, else the tag.
    var manifestReference: String? { digest?.description ?? tag }

    static func isValidTag(_ tag: String) -> Bool {
        let bytes = Array(tag.utf8)
        guard (1...128).contains(bytes.count), isWord(bytes[0]) else { return false }
        return bytes.dropFirst().allSatisfy { isWord($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    private static func isWord(_ byte: UInt8) -> Bool {
        isLowerAlphanumeric(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || byte == UInt8(ascii: "_")
    }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`, the distribution spec's path component.
    private static func isValidPathComponent(_ component: Substring) -> Bool {
        let bytes = Array(component.utf8)
        guard let first = bytes.first, let last = bytes.last, isLowerAlphanumeric(first), isLowerAlphanumeric(last) else { return false }
        return bytes.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    /// A DNS name or IPv4 address (letters, digits, `.`, `-`), or `[IPv6]`, with an optional port.
    private static func isValidHost(_ host: String) -> Bool {
        var name = Substring(host)
        if name.hasPrefix("[") {
            guard let close = name.firstIndex(of: "]") else { return false }
            let inside = name[name.index(after: name.startIndex)..<close]
            guard !inside.isEmpty, inside.utf8.allSatisfy({ isLowerAlphanumeric($0) || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains($0) || $0 == UInt8(ascii: ":") }) else { return false }
            name = name[name.index(after: close)...]
            if name.isEmpty { return true }
            guard name.hasPrefix(":") else { return false }
            return isValidPort(name.dropFirst())
        }
        if let colon = name.firstIndex(of: ":") {
            guard isValidPort(name[name.index(after: colon)...]) else { return false }
            name = name[..<colon]
        }
        return !name.isEmpty && name.utf8.count <= 253 && name.utf8.allSatisfy {
            isLowerAlphanumeric($0) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-")
        }
    }

    private static func isValidPort(_ text: Substring) -> Bool {
        guard (1...5).contains(text.utf8.count), text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
              let port = Int(text) else { return false }
        return (1...65535).contains(port)
    }
}
