/// One challenge of a `WWW-Authenticate` header (RFC 7235): `Bearer realm="…",service="…",scope="…"`
/// or `Basic realm="…"`.
struct AuthChallenge: Equatable {
    /// The scheme, lowercased (`bearer`, `basic`).
    var scheme: String
    /// The parameters, names lowercased.
    var parameters: [String: String]

    /// The challenges in a header value; unparsable text ends the list.
    static func parse(_ header: String) -> [AuthChallenge] {
        var challenges: [AuthChallenge] = []
        var rest = Substring(header)
        func skipSpaces() { while rest.first == " " || rest.first == "\t" || rest.first == "," { rest = rest.dropFirst() } }
        func token() -> String {
            let end = rest.firstIndex { " \t,=\"".contains($0) } ?? rest.endIndex
            defer { rest = rest[end...] }
            return String(rest[..<end])
        }
        while true {
            skipSpaces()
            let scheme = token()
            guard !scheme.isEmpty else { break }
            var challenge = AuthChallenge(scheme: scheme.lowercased(), parameters: [:])
            // Parameters follow until the next bare token (the next scheme).
            while true {
                skipSpaces()
                let saved = rest
                let name = token()
                guard !name.isEmpty, rest.first == "=" else {
                    rest = saved
                    break
                }
                rest = rest.dropFirst()
                var value = ""
                if rest.first == "\"" {
                    rest = rest.dropFirst()
                    while let character = rest.first, character != "\"" {
                        if character == "\\" { rest = rest.dropFirst() }
                        if let next = rest.first { value.append(next) }
                        rest = rest.dropFirst()
                    }
                    rest = rest.dropFirst()
                } else {
                    value = token()
                }
                challenge.parameters[name.lowercased()] = value
            }
            challenges.append(challenge)
        }
        return challenges
    }
}
