#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds credentials in what a plugin is about to store (environment variables, command lines,
/// small files), so that a snapshot can be shared without them.
///
/// Everything here is a pure function of its input, works on UTF-8 bytes (so any input, valid
/// UTF-8 or not, is handled without trapping), and errs towards redacting too much: a redacted
/// value costs an operator a look elsewhere, a leaked one costs a rotated credential.
///
/// Only the secret part of a value is replaced, by ``placeholder``, so the rest still says what
/// the value was for:
///
/// ```swift
/// SecretRedactor.redact(value: "postgres://app:hunter2@db.internal/orders")
/// // "postgres://app:<redacted>@db.internal/orders"
/// SecretRedactor.redact(arguments: ["curl", "--api-key", "abc123", "https://example.com"])
/// // ["curl", "--api-key", "<redacted>", "https://example.com"]
/// ```
///
/// What is found by value:
/// - the password of a URL (`scheme://user:password@host`), and a userinfo without a colon that
///   looks like a token (at least 20 characters of a token alphabet with both a letter and a digit:
///   `https://<token>@github.com`); a plain user name (`ssh://git@host`) is kept;
/// - well-known token shapes anywhere in a string: GitHub (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`,
///   `github_pat_`), GitLab (`glpat-`), Slack (`xoxa-`, `xoxb-`, `xoxe-`, `xoxo-`, `xoxp-`,
///   `xoxr-`, `xoxs-`, `xapp-`, and the path of `hooks.slack.com/services|workflows|triggers/…`),
///   Stripe (`sk_live_`, `sk_test_`, `rk_live_`, `rk_test_` and `whsec_`, each with at least 16
///   more), OpenAI and Anthropic (`sk-…`, `sk-proj-…`, `sk-ant-…`: at least 20 characters after
///   `sk-`, with a letter and a digit), Hugging Face (`hf_`), npm (`npm_`), PyPI (`pypi-`), Google
///   API keys (`AIza`), AWS access key ids (`AKIA`/`ASIA` and 16 of `[A-Z0-9]`), JWTs
///   (`eyJ….eyJ….signature`), `Bearer` tokens (at least 12 characters with a digit), `Basic`
///   credentials (base64 that decodes to something holding a colon, `user:password`) and OpenSSL's
///   `pass:PASSWORD`;
/// - the value of a secret-named parameter inside a string: `password=…` (up to whitespace, `&`,
///   `;` or a quote: query strings, connection strings, `-Dkey=value`; when the value is an HTTP
///   authentication scheme, `Authorization=Basic …`, the credentials after it go too), `Name: …`
///   with a space after the colon (`Authorization: Basic …`, `X-Api-Key: …`: headers and YAML, to
///   the end of the line), `"api_key": "…"` (JSON and Python literals), `--name value` (an option
///   and its value inside one string: `sh -c "mysql --password x"`). A name is secret-named when one
///   of its words (split at `-`, `_`, `.`) ends with a marker of ``secretMarkers`` (optionally
///   plural: `apikey`, `clientSecret`, `credentials`), is or ends with one of
///   ``secretWordEndings`` and is not one of ``nonSecretWords`` (`dbpass`, `creds`; not `bypass`),
///   or is one of `pw`, `passin`, `passout`, `authorization`, `sig`, `sessionid`. Requiring the
///   marker at the end of a word keeps `--keyboard` and `--author`.
///
/// Not found: secrets without a recognisable shape or name (an arbitrary high-entropy string, an
/// AWS secret access key in a value whose name says nothing), passwords containing whitespace or
/// a quote, and anything split across two strings.
public enum SecretRedactor {
    /// What a secret is replaced with.
    public static let placeholder = "<redacted>"

    /// The words that make a variable's name (anywhere in it, any case) or an option's name (at the
    /// end of one of its words) secret.
    public static let secretMarkers = ["KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "AUTH", "PRIVATE", "COOKIE", "SESSION"]

    /// Shorter markers, too common inside other words to count anywhere in a name
    /// (`PASSENGER_COUNT`): a name or option is secret when one of its words (split at `_`, `-`,
    /// `.`) is one of these or ends with one, in any case (`DB_PASS`, `PGPASS`, `MYSQL_PWD`,
    /// `BORG_PASSPHRASE`, `CREDS`, `BEARER`, `dbPass`), unless the word is one of
    /// ``nonSecretWords``.
    public static let secretWordEndings = ["PASS", "PWD", "PASSPHRASE", "CREDS", "BEARER"]

    /// Words that end like a secret and are not one: English words (`BYPASS`, `COMPASS`,
    /// `SURPASS`…), filters and encoder passes (`LOWPASS`, `TWOPASS`…), `ASKPASS` (the program that
    /// asks for a password: `SSH_ASKPASS`, `SUDO_ASKPASS`), `MULTIPASS` (a VM manager), `OLDPWD`
    /// (the shell's previous directory).
    public static let nonSecretWords: Set<String> = [
        "BYPASS", "COMPASS", "ENCOMPASS", "SURPASS", "TRESPASS", "OVERPASS", "UNDERPASS", "ASKPASS", "MULTIPASS",
        "SINGLEPASS", "ONEPASS", "TWOPASS", "LOWPASS", "HIGHPASS", "BANDPASS", "ALLPASS", "OLDPWD",
    ]

    /// Variable names that are never secret by name, in any case: `PWD` and `OLDPWD`, the shell's
    /// current and previous directories. (A parameter named `PWD` inside a value, as in an ODBC
    /// connection string `UID=app;PWD=…`, is still a password.)
    public static let nonSecretNames: Set<String> = ["PWD", "OLDPWD"]

    /// The tools whose `-pPASSWORD` (a password glued to `-p`) is a password; for any other program
    /// `-p…` means something else (a port, a path, `mkdir -p`), so it is left alone.
    public static let gluedPasswordTools: Set<String> = [
        "mysql", "mysqldump", "mysqladmin", "mysqlimport", "mysqlshow", "mysqlcheck", "mysqlpump", "mysqlslap",
        "mariadb", "mariadb-dump", "mariadb-admin", "mariadb-import", "mariadb-show", "mariadb-check", "mariadb-slap",
    ]

    // MARK: Names

    /// Whether a variable's name contains one of ``secretMarkers`` anywhere, in any case (`API_KEY`,
    /// `db_Password`, and also `KEYBOARD_LAYOUT`: a name rule cannot tell, so it redacts), or one
    /// of its words is or ends with one of ``secretWordEndings`` (`SMTP_PASS`, `PGPASS`,
    /// `MYSQL_PWD`; not `PASSENGER_COUNT`, `BYPASS_CACHE`, `SSH_ASKPASS`), except ``nonSecretNames``.
    ///
    /// Compared as ASCII bytes: names are ASCII in practice, and other bytes never match a marker.
    public static func looksSecret(name: String) -> Bool {
        let upper = name.utf8.map(Byte.upper)
        if markerBytes.contains(where: { marker in Byte.find(marker, in: upper, from: 0) != nil }) { return true }
        if nonSecretNames.contains(String(decoding: upper, as: UTF8.self)) { return false }
        return upper.split(whereSeparator: { $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") })
            .contains { endsLikeSecret($0) }
    }

    private static let lowerEndings = secretWordEndings.map { Array($0.lowercased().utf8) }
    private static let lowerNonSecretWords = nonSecretWords.map { Array($0.lowercased().utf8) }

    /// Whether `word` is or ends with one of ``secretWordEndings`` (any case) and is not one of
    /// ``nonSecretWords``. Compares bytes in place: it runs for every word of every parameter name.
    private static func endsLikeSecret(_ word: ArraySlice<UInt8>) -> Bool {
        guard let last = word.last, "SsDdEeRr".utf8.contains(last) else { return false }
        guard lowerEndings.contains(where: { word.count >= $0.count && Byte.equalsIgnoringCase($0, word, at: word.endIndex - $0.count) }) else {
            return false
        }
        return !lowerNonSecretWords.contains { $0.count == word.count && Byte.equalsIgnoringCase($0, word, at: word.startIndex) }
    }

    // MARK: Values

    /// `value` with every credential found by value (see ``SecretRedactor``) replaced by
    /// ``placeholder``, the rest unchanged; `value` itself when none is found.
    public static func redact(value: String) -> String {
        let bytes = Array(value.utf8)
        let spans = secretSpans(in: bytes)
        guard !spans.isEmpty else { return value }
        return String(decoding: replacing(spans, in: bytes), as: UTF8.self)
    }

    /// An environment variable's value as it may be stored: unchanged when `name` is in `keep`
    /// (neither rule applies: the operator said it is not a secret), ``placeholder`` when the name
    /// ``looksSecret(name:)``, otherwise ``redact(value:)``.
    public static func redact(name: String, value: String, keep: Set<String> = []) -> String {
        if keep.contains(name) { return value }
        if looksSecret(name: name) { return placeholder }
        return redact(value: value)
    }

    // MARK: Command lines

    /// A process's arguments (`argv`, the program first) as they may be stored.
    ///
    /// - An option whose name is secret-named (see ``SecretRedactor``), with one or two dashes:
    ///   `--password=X` becomes `--password=<redacted>`, and in `--api-key X` (or `-token X`) the
    ///   next argument is redacted, unless it starts with `--` (then it is the next option) or the
    ///   option is a negation (`--no-auth`). A boolean option with a secret name (`--private`)
    ///   therefore costs the next argument: redacting too much is the safe side.
    ///   `--password= X` (an empty value) redacts `X` the same way.
    /// - `-pSECRET` becomes `-p<redacted>` only when the program (the last path component of
    ///   `argv[0]`) is one of ``gluedPasswordTools``; through a wrapper (`sudo mysql -pX`) it is not
    ///   found. A judgement call: elsewhere `-p` is a port, a path or `mkdir -p`.
    /// - `-u USER:PASSWORD`, `-uUSER:PASSWORD`, `--user USER:PASSWORD`, `--user=USER:PASSWORD` (and
    ///   `-U`, `--proxy-user`) keep only `USER:` when the program is one of ``userPasswordTools``
    ///   (`curl`): elsewhere `-u` and `--user` name a user or `uid:gid`.
    /// - Every other argument goes through ``redact(value:)``.
    public static func redact(arguments: [String]) -> [String] {
        guard let program = arguments.first else { return [] }
        let tool = String(program.split(separator: "/").last ?? "")
        let gluedPassword = gluedPasswordTools.contains(tool)
        let userPassword = userPasswordTools.contains(tool)
        var result: [String] = []
        result.reserveCapacity(arguments.count)
        var redactNext = false, userNext = false
        for argument in arguments {
            if redactNext {
                redactNext = false
                if !argument.utf8.starts(with: [UInt8(ascii: "-"), UInt8(ascii: "-")]) {
                    result.append(placeholder)
                    continue
                }
            }
            if userNext {
                userNext = false
                result.append(redactPassword(user: argument))
                continue
            }
            let bytes = Array(argument.utf8)
            if result.count > 0, gluedPassword, bytes.count > 2, bytes[0] == UInt8(ascii: "-"), bytes[1] == UInt8(ascii: "p") {
                result.append("-p" + placeholder)
                continue
            }
            if result.count > 0, userPassword, let user = userOption(argument) {
                if let value = user.value {
                    result.append(user.option + redactPassword(user: value))
                } else {
                    userNext = true
                    result.append(argument)
                }
                continue
            }
            if result.count > 0, let name = optionName(bytes) {
                redactNext = isSecretName(name) && !isNegation(name)
            } else if result.count > 0, bytes.count > 3, bytes.last == UInt8(ascii: "="), let name = optionName(Array(bytes.dropLast())) {
                // `--password= X`: an empty value, and maybe the password after it.
                redactNext = isSecretName(name) && !isNegation(name)
            }
            // `--password=X` is a secret-named parameter: the value rules redact X.
            result.append(redact(value: argument))
        }
        return result
    }

    /// The tools whose `-u USER:PASSWORD` and `--user USER:PASSWORD` (and `-U`, `--proxy-user`,
    /// the proxy's) carry a password after the first colon. For other programs `-u` and `--user`
    /// are a user name or `uid:gid` (`sudo -u`, `docker run --user 1000:1000`), so they are left alone.
    public static let userPasswordTools: Set<String> = ["curl"]

    /// `-u`, `-U`, `--user`, `--proxy-user` (value in the next argument: `value` nil), or one of
    /// them with its value (`-ualice:pw`, `--user=alice:pw`).
    private static func userOption(_ argument: String) -> (option: String, value: String?)? {
        for option in ["--user", "--proxy-user", "-u", "-U"] {
            if argument == option { return (option, nil) }
            if option.hasPrefix("--"), argument.hasPrefix(option + "=") { return (option + "=", String(argument.dropFirst(option.count + 1))) }
            if !option.hasPrefix("--"), argument.hasPrefix(option), argument.count > 2 { return (option, String(argument.dropFirst(2))) }
        }
        return nil
    }

    /// `user:password` with what follows the first colon redacted; without a colon (the tool asks
    /// for the password) as the value rules leave it.
    private static func redactPassword(user: String) -> String {
        guard let colon = user.firstIndex(of: ":") else { return redact(value: user) }
        return redact(value: String(user[..<colon])) + ":" + placeholder
    }

    // MARK: Files

    /// Whether `bytes` contain a private key: a PEM block (`-----BEGIN PRIVATE KEY-----`, and any
    /// label ending in `PRIVATE KEY`: `RSA`, `EC`, `DSA`, `ENCRYPTED`, `OPENSSH`, `PGP … BLOCK`),
    /// an SSH2 (`---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----`) header, or a PuTTY key file
    /// (`PuTTY-User-Key-File-` and a version digit).
    ///
    /// Meant for every small file a plugin captures, so it never converts to `String`: one `memchr`
    /// pass over the bytes for `K` (in `KEY` and `Key`), the surroundings checked at each hit.
    public static func containsPrivateKey(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return false }
        // Read as raw bytes (never bound to a type), whatever the caller's buffer holds.
        let s = bytes
        var offset = 0
        while offset < s.count {
            guard let hit = memchr(base + offset, Int32(UInt8(ascii: "K")), s.count - offset) else { return false }
            let k = UnsafeRawPointer(hit) - base
            if isPEMPrivateKey(s, keyAt: k) || isPuTTYKey(s, keyAt: k) { return true }
            offset = k + 1
        }
        return false
    }

    private static let privateBytes = Array("PRIVATE ".utf8), keyBytes = Array("KEY".utf8)
    private static let beginBytes = Array("BEGIN ".utf8), pemDashes = Array("-----".utf8), ssh2Dashes = Array("----".utf8)
    private static let puttyBefore = Array("PuTTY-User-".utf8), puttyAfter = Array("Key-File-".utf8)

    /// `PRIVATE KEY` whose `K` is at `k`, on a `----- BEGIN <label> -----` line.
    private static func isPEMPrivateKey(_ s: UnsafeRawBufferPointer, keyAt k: Int) -> Bool {
        let before = privateBytes
        guard k >= before.count, Byte.matches(keyBytes, in: s, at: k),
              Byte.matches(before, in: s, at: k - before.count) else { return false }
        // Back over the label (`RSA `, `OPENSSH `, `SSH2 ENCRYPTED `) to `BEGIN`, then the dashes.
        var start = k - before.count
        while start > 0, k - start < 80, Byte.isLabel(s[start - 1]) { start -= 1 }
        while start < k, s[start] == UInt8(ascii: " ") { start += 1 }
        guard Byte.matches(beginBytes, in: s, at: start), start >= 5 else { return false }
        // PEM: `-----BEGIN …-----`; SSH2 (RFC 4716): `---- BEGIN … ----`.
        let pem = Byte.matches(pemDashes, in: s, at: start - 5)
        guard pem || (s[start - 1] == UInt8(ascii: " ") && Byte.matches(ssh2Dashes, in: s, at: start - 5)) else { return false }
        // After `KEY`: an optional suffix (` BLOCK`), then the same dashes.
        var end = k + 3
        while end < s.count, end - k < 24, Byte.isLabel(s[end]) { end += 1 }
        return pem ? Byte.matches(pemDashes, in: s, at: end)
                   : s[end - 1] == UInt8(ascii: " ") && Byte.matches(ssh2Dashes, in: s, at: end)
    }

    /// `PuTTY-User-Key-File-` and a version digit, the first line of a PuTTY `.ppk`, with `K` at `k`.
    private static func isPuTTYKey(_ s: UnsafeRawBufferPointer, keyAt k: Int) -> Bool {
        let before = puttyBefore
        let after = puttyAfter
        guard k >= before.count, Byte.matches(before, in: s, at: k - before.count), Byte.matches(after, in: s, at: k) else { return false }
        let version = k + after.count
        return version < s.count && Byte.isDigit(s[version])
    }

    // MARK: Value rules

    private static let markerBytes = secretMarkers.map { Array($0.utf8) }
    private static let lowerMarkers = secretMarkers.map { Array($0.lowercased().utf8) }
    private static let secretWords = ["pass", "pwd", "pw", "passphrase", "passin", "passout", "authorization", "sig", "sessionid"].map { Array($0.utf8) }

    /// The byte ranges of `s` to replace, sorted and merged.
    private static func secretSpans(in s: [UInt8]) -> [Range<Int>] {
        var spans: [Range<Int>] = []
        urlCredentials(in: s, into: &spans)
        tokens(in: s, into: &spans)
        namedParameters(in: s, into: &spans)
        spacedOptions(in: s, into: &spans)
        guard !spans.isEmpty else { return [] }
        spans.sort { $0.lowerBound < $1.lowerBound }
        var merged: [Range<Int>] = [spans[0]]
        for span in spans.dropFirst() {
            let last = merged[merged.count - 1]
            if span.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, span.upperBound)
            } else {
                merged.append(span)
            }
        }
        return merged
    }

    /// `s` with each of `spans` (sorted, disjoint) replaced by the placeholder.
    private static func replacing(_ spans: [Range<Int>], in s: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(s.count)
        var copied = 0
        for span in spans {
            out.append(contentsOf: s[copied..<span.lowerBound])
            out.append(contentsOf: placeholder.utf8)
            copied = span.upperBound
        }
        out.append(contentsOf: s[copied...])
        return out
    }

    /// Passwords in `scheme://user:password@host`, and token-like userinfo without a colon.
    private static func urlCredentials(in s: [UInt8], into spans: inout [Range<Int>]) {
        let separator = Array("://".utf8)
        var from = 0
        // The last search for `@` past an authority: (searched from, to, found). Later URLs in the
        // same run reuse it, so that `://a:b://a:b…` is not searched once per URL.
        var lastSearch: (from: Int, to: Int, at: Int?)?
        while let k = Byte.find(separator, in: s, from: from) {
            from = k + separator.count
            guard k > 0, Byte.isAlnum(s[k - 1]) else { continue }
            let start = from
            // The authority ends at the path, query or fragment (RFC 3986).
            var end = start
            while end < s.count, !Byte.endsAuthority(s[end]) { end += 1 }
            var at = Byte.lastIndex(of: UInt8(ascii: "@"), in: s, range: start..<end)
            if at == nil, let colon = Byte.firstIndex(of: UInt8(ascii: ":"), in: s, range: start..<end),
               !s[(colon + 1)..<end].allSatisfy(Byte.isDigit) {
                // `user:pa/ss@host`: not a valid URL, but a raw password with `/`, `?` or `#` is
                // common in connection strings; `host:port` (digits only) is not this.
                if let last = lastSearch, last.from <= end, end < last.to, last.at.map({ $0 >= end }) ?? true {
                    at = last.at
                } else {
                    var wider = end
                    while wider < s.count, !Byte.isSpaceOrQuote(s[wider]) { wider += 1 }
                    at = Byte.firstIndex(of: UInt8(ascii: "@"), in: s, range: end..<wider)
                    lastSearch = (end, wider, at)
                }
            }
            guard let at else { continue }
            if let colon = Byte.firstIndex(of: UInt8(ascii: ":"), in: s, range: start..<at) {
                if colon + 1 < at { spans.append((colon + 1)..<at) }
            } else if looksLikeToken(s[start..<at]) {
                spans.append(start..<at)
            }
            from = max(from, at + 1)
        }
    }

    /// At least 20 bytes of a token alphabet, with a letter and a digit: `ghp_…`, a hex or base64
    /// token, not `git`, `deploy` or an e-mail address.
    private static func looksLikeToken(_ text: ArraySlice<UInt8>) -> Bool {
        text.count >= 20 && text.contains(where: Byte.isDigit) && text.contains(where: Byte.isLetter)
            && text.allSatisfy { Byte.isAlnum($0) || "-._~+/=".utf8.contains($0) }
    }

    /// A token shape: a literal prefix, then a run of `body` bytes of at least `minimum` (and at most
    /// `maximum`) bytes, not followed by a letter or digit.
    ///
    /// Only a body of letters and digits may have a `maximum`: ``tokens(in:into:)`` skips the rest
    /// of a run where a shape failed, which is sound because a later start inside the run (after a
    /// `-` or `_`) has a shorter body, failing a minimum too, but could meet a maximum.
    private struct Shape: Sendable {
        let prefix: [UInt8]
        let body: ByteClass
        let minimum: Int
        var maximum = Int.max
        /// For shapes whose prefix is an ordinary word fragment (`sk-`): random tokens have both.
        var needsLetterAndDigit = false

        init(_ prefix: String, _ body: ByteClass, _ minimum: Int, maximum: Int = .max, needsLetterAndDigit: Bool = false) {
            self.prefix = Array(prefix.utf8)
            self.body = body
            self.minimum = minimum
            self.maximum = maximum
            self.needsLetterAndDigit = needsLetterAndDigit
        }
    }

    private static let shapes: [Shape] = [
        // GitHub: classic tokens are the prefix and 36 alphanumerics; fine-grained ones are longer.
        Shape("ghp_", .alnum, 36), Shape("gho_", .alnum, 36), Shape("ghu_", .alnum, 36),
        Shape("ghs_", .alnum, 36), Shape("ghr_", .alnum, 36), Shape("github_pat_", .word, 22),
        Shape("glpat-", .base64url, 20),
        // Slack bot, user, app, refresh… tokens: `xoxb-123-456-abc`.
        Shape("xoxa-", .dashed, 10), Shape("xoxb-", .dashed, 10), Shape("xoxe-", .dashed, 10),
        Shape("xoxo-", .dashed, 10), Shape("xoxp-", .dashed, 10), Shape("xoxr-", .dashed, 10),
        Shape("xoxs-", .dashed, 10), Shape("xapp-", .dashed, 10),
        // Stripe secret and restricted keys (`pk_` publishable keys are public by design).
        Shape("sk_live_", .alnum, 16), Shape("sk_test_", .alnum, 16), Shape("rk_live_", .alnum, 16),
        Shape("rk_test_", .alnum, 16), Shape("whsec_", .alnum, 16),
        // OpenAI (`sk-…`, `sk-proj-…`) and Anthropic (`sk-ant-api03-…`). `sk-` also starts words
        // (`sk-learn`), so the rest must be long and contain a letter and a digit.
        Shape("sk-", .base64url, 20, needsLetterAndDigit: true),
        Shape("hf_", .alnum, 30, needsLetterAndDigit: true), Shape("npm_", .alnum, 36), Shape("pypi-", .base64url, 50),
        Shape("AIza", .base64url, 35),
        // AWS access key ids (long-term and temporary); the secret key has no shape of its own.
        Shape("AKIA", .upperDigit, 16, maximum: 16), Shape("ASIA", .upperDigit, 16, maximum: 16),
    ]

    /// For each byte, the shapes whose prefix starts with it; and whether a token (a shape, `eyJ`,
    /// `Bearer`, `hooks.`) can start with it: other positions cost one load.
    private static let shapesByFirstByte: [[Int]] = {
        var table = [[Int]](repeating: [], count: 256)
        for (number, shape) in shapes.enumerated() { table[Int(shape.prefix[0])].append(number) }
        return table
    }()
    private static let tokenStarts: [Bool] = {
        var table = shapesByFirstByte.map { !$0.isEmpty }
        for first in "eBbh".utf8 { table[Int(first)] = true }
        return table
    }()

    /// Token shapes, JWTs, `Bearer` tokens and Slack webhook paths.
    private static func tokens(in s: [UInt8], into spans: inout [Range<Int>]) {
        // Where a shape last failed: a later start inside the same run fails too (its run is a
        // part of the failed one), so skipping keeps the scan linear on inputs like `sk-sk-sk-…`.
        var failedUntil = [Int](repeating: 0, count: shapes.count)
        var jwtFailedUntil = 0
        var i = 0
        while i < s.count {
            // A token starts at the beginning of a word: not inside `task-` or `mask_`.
            guard i == 0 || !Byte.isAlnum(s[i - 1]), tokenStarts[Int(s[i])] else { i += 1; continue }
            var found: Range<Int>?
            for number in shapesByFirstByte[Int(s[i])] where i >= failedUntil[number] && Byte.matches(shapes[number].prefix, in: s, at: i) {
                let shape = shapes[number]
                let bodyStart = i + shape.prefix.count
                var end = bodyStart
                while end < s.count, shape.body.contains(s[end]) { end += 1 }
                let body = s[bodyStart..<end]
                if (shape.minimum...shape.maximum).contains(body.count), end == s.count || !Byte.isAlnum(s[end]),
                   !shape.needsLetterAndDigit || (body.contains(where: Byte.isDigit) && body.contains(where: Byte.isLetter)) {
                    found = i..<end
                    break
                }
                failedUntil[number] = end
            }
            if found == nil, i >= jwtFailedUntil, Byte.matches(jwtStart, in: s, at: i) {
                found = jwt(in: s, at: i)
                if found == nil { jwtFailedUntil = Byte.run(of: .base64url, in: s, from: i) }
            }
            if found == nil { found = bearer(in: s, at: i) ?? basic(in: s, at: i) ?? opensslPassword(in: s, at: i) ?? slackWebhook(in: s, at: i) }
            if let found {
                spans.append(found)
                i = max(i + 1, found.upperBound)
            } else {
                i += 1
            }
        }
    }

    /// `eyJ…` `.` `eyJ…` `.` signature: a JWT's header and claims are base64url JSON objects.
    private static let jwtStart = Array("eyJ".utf8)

    private static func jwt(in s: [UInt8], at i: Int) -> Range<Int>? {
        let headerEnd = Byte.run(of: .base64url, in: s, from: i)
        guard headerEnd - i >= 10, headerEnd < s.count, s[headerEnd] == UInt8(ascii: "."),
              Byte.matches(jwtStart, in: s, at: headerEnd + 1) else { return nil }
        let claimsEnd = Byte.run(of: .base64url, in: s, from: headerEnd + 1)
        guard claimsEnd - headerEnd - 1 >= 10, claimsEnd < s.count, s[claimsEnd] == UInt8(ascii: ".") else { return nil }
        // The signature is empty for an unsigned token (`alg: none`); the claims still are secret.
        return i..<Byte.run(of: .base64url, in: s, from: claimsEnd + 1)
    }

    /// `Bearer <token>` (any case): the token, when it has at least 12 bytes and a digit (so that
    /// "bearer authentication" in a sentence is kept).
    private static func bearer(in s: [UInt8], at i: Int) -> Range<Int>? {
        let word = Array("bearer".utf8)
        guard Byte.lower(s[i]) == word[0], i + word.count < s.count,
              s[i..<(i + word.count)].map(Byte.lower).elementsEqual(word) else { return nil }
        var start = i + word.count
        guard s[start] == UInt8(ascii: " ") || s[start] == UInt8(ascii: "\t") else { return nil }
        while start < s.count, s[start] == UInt8(ascii: " ") || s[start] == UInt8(ascii: "\t") { start += 1 }
        var end = start
        // RFC 6750 token68: letters, digits, `-._~+/`, then `=` padding.
        while end < s.count, Byte.isAlnum(s[end]) || "-._~+/".utf8.contains(s[end]) { end += 1 }
        while end < s.count, s[end] == UInt8(ascii: "=") { end += 1 }
        guard end - start >= 12, s[start..<end].contains(where: Byte.isDigit) else { return nil }
        return start..<end
    }

    /// `Basic <credentials>` (any case): the credentials, when they are base64 (standard alphabet,
    /// with or without padding) of something holding a colon, `user:password` as HTTP Basic
    /// authentication encodes it (so "basic usage" or "Basic 101" in a sentence is kept).
    private static func basic(in s: [UInt8], at i: Int) -> Range<Int>? {
        let word = Array("basic".utf8)
        guard Byte.lower(s[i]) == word[0], i + word.count < s.count,
              s[i..<(i + word.count)].map(Byte.lower).elementsEqual(word) else { return nil }
        var start = i + word.count
        guard s[start] == UInt8(ascii: " ") || s[start] == UInt8(ascii: "\t") else { return nil }
        while start < s.count, s[start] == UInt8(ascii: " ") || s[start] == UInt8(ascii: "\t") { start += 1 }
        var end = start
        while end < s.count, Byte.isAlnum(s[end]) || s[end] == UInt8(ascii: "+") || s[end] == UInt8(ascii: "/") { end += 1 }
        while end < s.count, s[end] == UInt8(ascii: "=") { end += 1 }
        guard end - start >= 4, Byte.base64HoldsColon(s[start..<end]) else { return nil }
        return start..<end
    }

    /// OpenSSL's `pass:PASSWORD` (`-passin pass:…`, `-passout pass:…`): the password, up to
    /// whitespace or a quote. Lower case only, as OpenSSL spells it, and never `pass: x` with a space.
    private static func opensslPassword(in s: [UInt8], at i: Int) -> Range<Int>? {
        let prefix = Array("pass:".utf8)
        guard s[i] == prefix[0], Byte.matches(prefix, in: s, at: i) else { return nil }
        let start = i + prefix.count
        var end = start
        while end < s.count, !Byte.isSpaceOrQuote(s[end]) { end += 1 }
        return end > start ? start..<end : nil
    }

    /// The secret path of `hooks.slack.com/services/…` (also `workflows/`, `triggers/`); the host
    /// and kind are kept.
    private static func slackWebhook(in s: [UInt8], at i: Int) -> Range<Int>? {
        guard s[i] == UInt8(ascii: "h") else { return nil }
        let host = Array("hooks.slack.com/".utf8)
        guard Byte.matches(host, in: s, at: i) else { return nil }
        for kind in ["services/", "workflows/", "triggers/"] {
            let kind = Array(kind.utf8)
            guard Byte.matches(kind, in: s, at: i + host.count) else { continue }
            let start = i + host.count + kind.count
            var end = start
            while end < s.count, !Byte.isSpaceOrQuote(s[end]), s[end] != UInt8(ascii: "?"), s[end] != UInt8(ascii: "#") { end += 1 }
            return end > start ? start..<end : nil
        }
        return nil
    }

    /// Values of secret-named parameters: `name=value`, `Name: value`, `"name": "value"`.
    private static func namedParameters(in s: [UInt8], into spans: inout [Range<Int>]) {
        var k = 0
        while k < s.count {
            let byte = s[k]
            guard byte == UInt8(ascii: "=") || byte == UInt8(ascii: ":") else { k += 1; continue }
            var nameStart = k
            while nameStart > 0, Byte.isNameByte(s[nameStart - 1]) { nameStart -= 1 }
            var span: Range<Int>?
            if byte == UInt8(ascii: "="), nameStart < k, isSecretName(s[nameStart..<k]) {
                // Up to whitespace, `&` (query strings), `;` (connection strings) or a quote; not
                // `,`: in `password=a,b` the comma may be the password's.
                var end = k + 1
                while end < s.count, !Byte.isSpaceOrQuote(s[end]), s[end] != UInt8(ascii: "&"), s[end] != UInt8(ascii: ";") { end += 1 }
                // `Authorization=Basic …`: the scheme and its credentials both go.
                end = credentials(in: s, scheme: (k + 1)..<end) ?? end
                if end > k + 1 { span = (k + 1)..<end }
            } else if byte == UInt8(ascii: ":"), nameStart < k, k + 1 < s.count, s[k + 1] == UInt8(ascii: " ") || s[k + 1] == UInt8(ascii: "\t"),
                      isSecretName(s[nameStart..<k]) {
                // A header or YAML line: the rest of the line (`Authorization: Basic …`).
                var start = k + 1
                while start < s.count, s[start] == UInt8(ascii: " ") || s[start] == UInt8(ascii: "\t") { start += 1 }
                var end = start
                while end < s.count, !Byte.isLineEndOrQuote(s[end]) { end += 1 }
                if end > start { span = start..<end }
            } else if byte == UInt8(ascii: ":") {
                span = quotedParameter(in: s, colon: k)
            }
            if let span {
                spans.append(span)
                k = max(k + 1, span.upperBound)
            } else {
                k += 1
            }
        }
    }

    /// HTTP authentication schemes whose credentials are one token, and those whose credentials
    /// are a list of parameters (which may hold spaces, commas and quotes).
    private static let tokenSchemes = ["basic", "bearer", "token", "negotiate", "ntlm", "apikey", "dpop", "privatetoken"].map { Array($0.utf8) }
    private static let parameterSchemes = ["digest", "oauth", "aws4-hmac-sha256", "hoba", "mutual", "vapid", "scram-sha-1", "scram-sha-256", "gnap", "concealed"]
        .map { Array($0.utf8) }

    /// When `scheme` (the value of a secret-named `name=value`) is an HTTP authentication scheme
    /// followed by credentials, where the credentials end: after the next word for a token scheme
    /// (`Basic`, `Bearer`…), at the end of the line for a scheme with parameters (`Digest`…).
    private static func credentials(in s: [UInt8], scheme: Range<Int>) -> Int? {
        let word = s[scheme]
        let isToken = tokenSchemes.contains { $0.count == word.count && Byte.equalsIgnoringCase($0, word, at: word.startIndex) }
        let isParameters = !isToken && parameterSchemes.contains { $0.count == word.count && Byte.equalsIgnoringCase($0, word, at: word.startIndex) }
        guard isToken || isParameters, scheme.upperBound < s.count,
              s[scheme.upperBound] == UInt8(ascii: " ") || s[scheme.upperBound] == UInt8(ascii: "\t") else { return nil }
        var start = scheme.upperBound
        while start < s.count, s[start] == UInt8(ascii: " ") || s[start] == UInt8(ascii: "\t") { start += 1 }
        var end = start
        if isToken {
            while end < s.count, !Byte.isSpaceOrQuote(s[end]) { end += 1 }
        } else {
            while end < s.count, s[end] != UInt8(ascii: "\n"), s[end] != UInt8(ascii: "\r") { end += 1 }
        }
        return end > start ? end : nil
    }

    /// `--name value` inside one string (a variable holding options, `sh -c "mysql --password x"`,
    /// one argument `'--password x'`): the value, when the name is secret-named and not a negation,
    /// and the value does not start with `-` (then it is the next option).
    private static func spacedOptions(in s: [UInt8], into spans: inout [Range<Int>]) {
        let dashes = Array("--".utf8)
        var k = 0
        while let at = Byte.find(dashes, in: s, from: k) {
            k = at + 2
            guard at == 0 || Byte.isSpaceOrQuote(s[at - 1]) else { continue }
            var nameEnd = k
            while nameEnd < s.count, Byte.isNameByte(s[nameEnd]) { nameEnd += 1 }
            guard nameEnd > k, nameEnd < s.count, s[nameEnd] == UInt8(ascii: " ") || s[nameEnd] == UInt8(ascii: "\t") else { continue }
            let name = s[k..<nameEnd]
            k = nameEnd
            guard isSecretName(name), !isNegation(name) else { continue }
            var start = nameEnd
            while start < s.count, s[start] == UInt8(ascii: " ") || s[start] == UInt8(ascii: "\t") { start += 1 }
            guard start < s.count, s[start] != UInt8(ascii: "-"), !Byte.isSpaceOrQuote(s[start]) else { continue }
            var end = start
            while end < s.count, !Byte.isSpaceOrQuote(s[end]) { end += 1 }
            spans.append(start..<end)
            k = end
        }
    }

    /// `"name": "value"` or `'name': value` with a secret name and the colon at `colon`: the value
    /// inside its quotes, or a bare value up to `,`, `}`, `]` or whitespace.
    private static func quotedParameter(in s: [UInt8], colon: Int) -> Range<Int>? {
        var close = colon
        while close > 0, s[close - 1] == UInt8(ascii: " ") { close -= 1 }
        guard close > 0, Byte.isQuote(s[close - 1]) else { return nil }
        let quote = s[close - 1]
        var open = close - 1
        while open > 0, Byte.isNameByte(s[open - 1]) { open -= 1 }
        guard open > 0, s[open - 1] == quote, open < close - 1, isSecretName(s[open..<(close - 1)]) else { return nil }
        var start = colon + 1
        while start < s.count, s[start] == UInt8(ascii: " ") { start += 1 }
        guard start < s.count else { return nil }
        if Byte.isQuote(s[start]) {
            let valueQuote = s[start]
            var end = start + 1
            while end < s.count, s[end] != valueQuote {
                end += s[end] == UInt8(ascii: "\\") ? 2 : 1
            }
            end = min(end, s.count)
            return end > start + 1 ? (start + 1)..<end : nil
        }
        var end = start
        while end < s.count, !",}] \t\r\n".utf8.contains(s[end]) { end += 1 }
        return end > start ? start..<end : nil
    }

    /// The name of an option that takes its value from the next argument (`--name` or `-name`: at
    /// least two bytes after one dash, no `=value` part), or nil for a short option (`-p`), an
    /// option with its value (`--name=value`) or a non-option.
    private static func optionName(_ argument: [UInt8]) -> ArraySlice<UInt8>? {
        let dash = UInt8(ascii: "-")
        guard argument.count > 2, argument[0] == dash, !argument.contains(UInt8(ascii: "=")) else { return nil }
        if argument[1] == dash { return argument[2...] }
        return Byte.isLetter(argument[1]) ? argument[1...] : nil
    }

    /// `no-…` or `no_…`: a negated flag (`--no-auth`), which takes no value.
    private static func isNegation(_ name: ArraySlice<UInt8>) -> Bool {
        name.count > 3 && Byte.lower(name[name.startIndex]) == UInt8(ascii: "n") && Byte.lower(name[name.startIndex + 1]) == UInt8(ascii: "o")
            && (name[name.startIndex + 2] == UInt8(ascii: "-") || name[name.startIndex + 2] == UInt8(ascii: "_"))
    }

    /// Whether a parameter or option name is secret-named: one of its words (split at `-`, `_`,
    /// `.`) ends with a marker, optionally plural, or is one of ``secretWords``.
    ///
    /// Called for every `=` and `:` of a value, so it compares bytes in place, allocating nothing.
    private static func isSecretName(_ name: ArraySlice<UInt8>) -> Bool {
        var wordStart = name.startIndex
        var i = name.startIndex
        while i <= name.endIndex {
            if i == name.endIndex || name[i] == UInt8(ascii: "-") || name[i] == UInt8(ascii: "_") || name[i] == UInt8(ascii: ".") {
                if i > wordStart && isSecretWord(name, wordStart..<i) { return true }
                wordStart = i + 1
            }
            i += 1
        }
        return false
    }

    private static func isSecretWord(_ name: ArraySlice<UInt8>, _ word: Range<Int>) -> Bool {
        if secretWords.contains(where: { $0.count == word.count && Byte.equalsIgnoringCase($0, name, at: word.lowerBound) }) { return true }
        if endsLikeSecret(name[word]) { return true }
        let plural = Byte.lower(name[word.upperBound - 1]) == UInt8(ascii: "s")
        return lowerMarkers.contains { marker in
            (marker.count <= word.count && Byte.equalsIgnoringCase(marker, name, at: word.upperBound - marker.count))
                || (plural && marker.count < word.count && Byte.equalsIgnoringCase(marker, name, at: word.upperBound - 1 - marker.count))
        }
    }
}

/// The bytes a token's body is made of.
private enum ByteClass: Sendable {
    case alnum, word, dashed, base64url, upperDigit

    func contains(_ b: UInt8) -> Bool {
        switch self {
        case .alnum: Byte.isAlnum(b)
        case .word: Byte.isAlnum(b) || b == UInt8(ascii: "_")
        case .dashed: Byte.isAlnum(b) || b == UInt8(ascii: "-")
        case .base64url: Byte.isAlnum(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
        case .upperDigit: Byte.isDigit(b) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b)
        }
    }
}

/// Byte predicates and searches on UTF-8 text; every index is checked against the bounds first.
private enum Byte {
    static func isDigit(_ b: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) }
    static func isLetter(_ b: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b)
    }
    static func isAlnum(_ b: UInt8) -> Bool { isDigit(b) || isLetter(b) }
    static func isQuote(_ b: UInt8) -> Bool { b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") || b == UInt8(ascii: "`") }
    static func isSpaceOrQuote(_ b: UInt8) -> Bool {
        b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || b == UInt8(ascii: "\n") || b == UInt8(ascii: "\r") || isQuote(b)
    }
    static func isLineEndOrQuote(_ b: UInt8) -> Bool { b == UInt8(ascii: "\n") || b == UInt8(ascii: "\r") || isQuote(b) }
    static func endsAuthority(_ b: UInt8) -> Bool {
        isSpaceOrQuote(b) || "/?#<>\\".utf8.contains(b)
    }
    /// Letters, digits and `_ . -`: what a parameter or option name is made of.
    static func isNameByte(_ b: UInt8) -> Bool {
        isAlnum(b) || b == UInt8(ascii: "_") || b == UInt8(ascii: ".") || b == UInt8(ascii: "-")
    }
    /// Upper-case letters, digits and spaces: a PEM label.
    static func isLabel(_ b: UInt8) -> Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b) || isDigit(b) || b == UInt8(ascii: " ")
    }
    static func upper(_ b: UInt8) -> UInt8 { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) ? b - 32 : b }
    static func lower(_ b: UInt8) -> UInt8 { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b) ? b + 32 : b }

    /// Whether `pattern` occurs in `s` at `i` (false when it would run past the end).
    static func matches<C: RandomAccessCollection<UInt8>>(_ pattern: [UInt8], in s: C, at i: Int) -> Bool where C.Index == Int {
        guard i >= s.startIndex, i <= s.endIndex, s.endIndex - i >= pattern.count else { return false }
        for (offset, byte) in pattern.enumerated() where s[i + offset] != byte { return false }
        return true
    }

    /// Whether `lowercase` (lower-case ASCII) occurs in `s` at `i`, in any case.
    static func equalsIgnoringCase(_ lowercase: [UInt8], _ s: ArraySlice<UInt8>, at i: Int) -> Bool {
        guard i >= s.startIndex, i <= s.endIndex, s.endIndex - i >= lowercase.count else { return false }
        for (offset, byte) in lowercase.enumerated() where lower(s[i + offset]) != byte { return false }
        return true
    }

    /// The first index at or after `from` where `pattern` starts.
    static func find(_ pattern: [UInt8], in s: [UInt8], from: Int) -> Int? {
        guard let first = pattern.first, s.count >= pattern.count else { return nil }
        var i = from
        while i <= s.count - pattern.count {
            if s[i] == first && matches(pattern, in: s, at: i) { return i }
            i += 1
        }
        return nil
    }

    static func firstIndex(of byte: UInt8, in s: [UInt8], range: Range<Int>) -> Int? {
        s[range].firstIndex(of: byte)
    }

    static func lastIndex(of byte: UInt8, in s: [UInt8], range: Range<Int>) -> Int? {
        s[range].lastIndex(of: byte)
    }

    /// Whether `text` decodes as base64 (standard alphabet, `=` padding only at the end) to bytes
    /// holding a `:`.
    static func base64HoldsColon(_ text: ArraySlice<UInt8>) -> Bool {
        var bits: UInt32 = 0
        var pending = 0
        for b in text {
            let value: UInt32
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(b - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(b - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(b - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            case UInt8(ascii: "="): return false
            default: return false
            }
            bits = (bits << 6 | value) & 0xffff
            pending += 6
            if pending >= 8 {
                pending -= 8
                if (bits >> pending) & 0xff == UInt32(UInt8(ascii: ":")) { return true }
            }
        }
        return false
    }

    /// The end of the run of `kind` bytes starting at `from`.
    static func run(of kind: ByteClass, in s: [UInt8], from: Int) -> Int {
        var end = from
        while end < s.count, kind.contains(s[end]) { end += 1 }
        return end
    }
}
