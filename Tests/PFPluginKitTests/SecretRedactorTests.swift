import PFPluginKit
import Testing

/// A fake credential: `prefix` and `count` characters cycling through letters of both cases and
/// digits, the shape of a random token. Built at run time so that the repository holds no string
/// a secret scanner (or GitHub push protection) would take for a real credential.
func fakeToken(_ prefix: String, _ count: Int, alphabet: String = "aB3dE5gH7jK9mN1pQ2sT4vW6yZ8") -> String {
    let characters = Array(alphabet)
    return prefix + String((0..<count).map { characters[$0 % characters.count] })
}

/// A JWT-shaped string: base64url of `{"alg":"HS256","typ":"JWT"}`, of some claims, and a signature.
let fakeJWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9" + "." + "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkFkYSJ9" + "." + fakeToken("", 43, alphabet: "Ab9_-Cd8")

struct Case: CustomTestStringConvertible, Sendable {
    let input: String
    let expected: String
    let rule: String
    init(_ rule: String, _ input: String, _ expected: String) {
        self.rule = rule
        self.input = input
        self.expected = expected
    }
    var testDescription: String { rule }
}

@Suite("SecretRedactor")
struct SecretRedactorTests {
    static let r = SecretRedactor.placeholder

    @Test("redact(value:): each rule replaces only the secret", arguments: [
        // URLs: the password goes; scheme, user, host, path and query stay.
        Case("URL password", "postgres://u:pw@h/db", "postgres://u:\(r)@h/db"),
        Case("proxy URL password", "http://user:pass@proxy:3128", "http://user:\(r)@proxy:3128"),
        Case("URL with empty user", "redis://:s3cret@cache:6379/0", "redis://:\(r)@cache:6379/0"),
        Case("URL password containing a colon", "amqp://app:a:b:c@mq/vhost", "amqp://app:\(r)@mq/vhost"),
        Case("URL raw password with / and #", "postgres://app:pa/ss#w@db/orders", "postgres://app:\(r)@db/orders"),
        Case("two URLs in one value", "http://a:one@h1/ https://b:two@h2/", "http://a:\(r)@h1/ https://b:\(r)@h2/"),
        Case("token as URL userinfo", "https://\(fakeToken("", 40))@github.com/org/repo.git", "https://\(r)@github.com/org/repo.git"),
        // Token shapes, alone and inside text.
        Case("GitHub ghp_", fakeToken("gh" + "p_", 36), r),
        Case("GitHub gho_", "token " + fakeToken("gh" + "o_", 36), "token \(r)"),
        Case("GitHub ghu_", fakeToken("gh" + "u_", 36) + ";", "\(r);"),
        Case("GitHub ghs_", "[" + fakeToken("gh" + "s_", 36) + "]", "[\(r)]"),
        Case("GitHub ghr_", fakeToken("gh" + "r_", 36), r),
        Case("GitHub fine-grained", fakeToken("github" + "_pat_", 22) + "_" + fakeToken("", 59), r),
        Case("GitHub token in a URL", "https://x-access-token:" + fakeToken("gh" + "s_", 36) + "@github.com/o/r", "https://x-access-token:\(r)@github.com/o/r"),
        Case("GitLab", fakeToken("gl" + "pat-", 20), r),
        Case("Slack bot token", "xo" + "xb-123456789012-1234567890123-" + fakeToken("", 24), r),
        Case("Slack user token", "xo" + "xp-" + fakeToken("", 30), r),
        Case("Slack app token", "xa" + "pp-1-" + fakeToken("", 30), r),
        Case("Slack webhook", "https://hooks.slack.com/services/" + "T0001/B0002/" + fakeToken("", 24), "https://hooks.slack.com/services/\(r)"),
        Case("Slack workflow webhook", "https://hooks.slack.com/workflows/T0001/A0002/123/" + fakeToken("", 24) + "?x=1",
             "https://hooks.slack.com/workflows/\(r)?x=1"),
        Case("Stripe live secret key", fakeToken("sk" + "_live_", 24), r),
        Case("Stripe test secret key", "key: " + fakeToken("sk" + "_test_", 24), "key: \(r)"),
        Case("Stripe restricted key", fakeToken("rk" + "_live_", 24), r),
        Case("Stripe webhook secret", fakeToken("wh" + "sec_", 32), r),
        Case("OpenAI legacy key", fakeToken("sk" + "-", 48), r),
        Case("OpenAI project key", fakeToken("sk" + "-proj-", 40) + "_" + fakeToken("", 40), r),
        Case("Anthropic key", fakeToken("sk" + "-ant-api03-", 80) + "-" + fakeToken("", 10), r),
        Case("Hugging Face token", fakeToken("h" + "f_", 34), r),
        Case("npm token", fakeToken("np" + "m_", 36), r),
        Case("PyPI token", fakeToken("py" + "pi-", 80), r),
        Case("Google API key", fakeToken("AI" + "za", 35), r),
        Case("AWS access key id", "id=" + fakeToken("AK" + "IA", 16, alphabet: "IOSFODNN7EXAMPLE"), "id=\(r)"),
        Case("AWS temporary key id", fakeToken("AS" + "IA", 16, alphabet: "Q2W3E4R5T6Y7U8I9"), r),
        Case("JWT", "session " + fakeJWT + " end", "session \(r) end"),
        Case("unsigned JWT", "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxMjM0NTY3ODkwIn0.", r),
        Case("Bearer token", "Bearer abc123def456ghi789", "Bearer \(r)"),
        // Secret-named parameters inside a value.
        Case("libpq connection string", "host=db user=app password=hunter2 sslmode=require", "host=db user=app password=\(r) sslmode=require"),
        Case("query parameter", "https://api.example.com/v1?api_key=abc123&format=json", "https://api.example.com/v1?api_key=\(r)&format=json"),
        Case("ADO.NET connection string", "Server=db;User Id=app;Password=hunter2;Encrypt=true", "Server=db;User Id=app;Password=\(r);Encrypt=true"),
        Case("Azure storage connection string", "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=abc/def+ghi==;EndpointSuffix=core.windows.net",
             "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=\(r);EndpointSuffix=core.windows.net"),
        Case("Azure SAS signature", "https://acct.blob.core.windows.net/c?sv=2022&sig=abcDEF%2B123", "https://acct.blob.core.windows.net/c?sv=2022&sig=\(r)"),
        Case("Java system property", "-Xmx1g -Djavax.net.ssl.trustStorePassword=changeit -Dx=1", "-Xmx1g -Djavax.net.ssl.trustStorePassword=\(r) -Dx=1"),
        Case("mount options", "username=u,password=p4ss,vers=3.0", "username=u,password=\(r)"),
        Case("plural name", "credentials=abc", "credentials=\(r)"),
        Case("Authorization header", "Authorization: Basic dXNlcjpwYXNz", "Authorization: \(r)"),
        Case("API key header", "X-Api-Key: abc123", "X-Api-Key: \(r)"),
        Case("JSON member", #"{"api_key": "abc\"123", "model": "gpt"}"#, #"{"api_key": "\#(r)", "model": "gpt"}"#),
        Case("Python dict member", "{'client_secret': 'xyz', 'n': 1}", "{'client_secret': '\(r)', 'n': 1}"),
        Case("JSON bare value", #"{"pin_password":1234,"n":1}"#, #"{"pin_password":\#(r),"n":1}"#),
        // A secret-named parameter whose value is an HTTP authentication scheme: the scheme and the credentials go.
        Case("Authorization=Basic", "Authorization=Basic S3cretAuthz23", "Authorization=\(r)"),
        Case("Authorization=Bearer, then more", "Authorization=Bearer abc123 x=1", "Authorization=\(r) x=1"),
        Case("auth=Digest with parameters", #"auth=Digest username="u", response="6629fae4""#, "auth=\(r)"),
        Case("token=Token", "token=token 0123abcd", "token=\(r)"),
        // A bare HTTP Basic credential: base64 of user:password.
        Case("Basic alone", "Basic dXNlcjpTM2NyZXRCYXNpYzIy", "Basic \(r)"),
        Case("Basic without padding, in a header list", "-H 'X: 1' basic YWxpY2U6cHc", "-H 'X: 1' basic \(r)"),
        Case("Stripe webhook secret, 16", fakeToken("wh" + "sec_", 16), r),
        Case("OpenSSL pass:", "-passin pass:hunter2 -out k.pem", "-passin pass:\(r) -out k.pem"),
        Case("a secret option and its value inside one string", "--db-password S3cretArg11", "--db-password \(r)"),
        Case("sh -c with a spaced password option", "mysql --password hunter2 orders", "mysql --password \(r) orders"),
        Case("dbpass=", "dbpass=hunter2&x=1", "dbpass=\(r)&x=1"),
        Case("CREDS=", "CREDS=alice:pw", "CREDS=\(r)"),
        Case("non-UTF-8 bytes around a secret", String(decoding: [0xff, 0xfe] + Array(" password=x ".utf8) + [0xc3], as: UTF8.self),
             String(decoding: [0xff, 0xfe] + Array(" password=\(r) ".utf8) + [0xc3], as: UTF8.self)),
    ])
    func redactsValue(_ test: Case) {
        #expect(SecretRedactor.redact(value: test.input) == test.expected)
    }

    @Test("redact(value:): near misses are kept", arguments: [
        "sk-learn", "scikit-learn", "pip install sk-learn-compatible-estimators-module",
        "task-runner-for-the-nightly-batch-jobs", "risk-0123456789abcdefghij",
        "https://example.com/path?q=1", "ssh://git@github.com/org/repo.git", "https://deploy@example.com/",
        "http://proxy:3128/x@y", "http://localhost:4873/@scope/pkg", "https://medium.com/@someone",
        "mail jane@example.com", "git@github.com:org/repo.git",
        "ghp_short", "mask_" + "0123456789abcdefghijklmnopqrstuvwxyz", "x" + fakeToken("gh" + "p_", 36),
        fakeToken("AK" + "IA", 15, alphabet: "ABC123"), fakeToken("AK" + "IA", 16, alphabet: "ABC123") + "x",
        "eyJhbGciOiJIUzI1NiJ9", "bearer authentication is used", "Bearer token",
        "keyboard=us", "author: Jane Doe", "monkey business", "KEY", "password", "password=", "note: the password is elsewhere",
        "LS_COLORS=rs=0:di=01;34", "https://hooks.slack.com/", "xo" + "xb-short", "sk_live_short", "",
        "basic usage", "Basic 101", "Basic auth is weak", "Authorization-free", fakeToken("wh" + "sec_", 15),
        "bypass=1", "compass=north", "lowpass=300", "OLDPWD=/home/u",
        "--token --verbose", "--no-password x", "--keyboard us", "--passenger-count 3",
    ])
    func keepsNearMiss(_ value: String) {
        #expect(SecretRedactor.redact(value: value) == value)
    }

    @Test("redact(name:value:keep:): the name rule takes the whole value; env_keep turns off both rules", arguments: [
        ("API_KEY", "x", [], r),
        ("db_Password", "hunter2", [], r),
        ("KEYBOARD_LAYOUT", "us", [], r),
        ("SSH_AUTH_SOCK", "/run/agent.sock", [], r),
        ("AGENT_MODE", "batch", [], "batch"),
        ("HOME", "/root", [], "/root"),
        ("DATABASE_URL", "postgres://u:pw@h/db", [], "postgres://u:\(r)@h/db"),
        ("GH_PAT", fakeToken("gh" + "p_", 36), [], r),
        ("DATABASE_URL", "postgres://u:pw@h/db", ["DATABASE_URL"], "postgres://u:pw@h/db"),
        ("GITHUB_TOKEN", "t", ["GITHUB_TOKEN", "OTHER"], "t"),
        ("GITHUB_TOKEN", "t", ["OTHER"], r),
    ] as [(String, String, Set<String>, String)])
    func redactsVariable(_ name: String, _ value: String, _ keep: Set<String>, _ expected: String) {
        #expect(SecretRedactor.redact(name: name, value: value, keep: keep) == expected)
    }

    @Test("looksSecret(name:): PASS, PWD, PASSPHRASE, CREDS and BEARER as words or word endings, not in other words")
    func wordEndings() {
        for name in ["MYSQL_PWD", "DB_PASS", "SMTP_PASS", "REDIS_PASS", "PGPASS", "ENCRYPTION_PASSPHRASE", "BORG_PASSPHRASE",
                     "CREDS", "BEARER", "PASSPHRASE_X", "AWS_CREDS_FILE", "dbPass", "db-pwd", "x.bearer", "ADMINPWD"] {
            #expect(SecretRedactor.looksSecret(name: name), "\(name)")
        }
        for name in ["PASSENGER_COUNT", "BYPASS", "BYPASS_CACHE", "COMPASS", "COMPASS_HEADING", "PWD", "OLDPWD", "pwd",
                     "SSH_ASKPASS", "SUDO_ASKPASS", "PGPASSFILE", "BORG_PASSCOMMAND", "LOWPASS_HZ", "MULTIPASS_DRIVER", "PASSTHROUGH", "CWD"] {
            #expect(!SecretRedactor.looksSecret(name: name), "\(name)")
        }
    }

    @Test("looksSecret(name:): a marker anywhere in the name, any case")
    func looksSecret() {
        for name in ["API_KEY", "github_token", "Client_Secret", "PGPASSWORD", "PASSWD", "GOOGLE_CREDENTIALS", "OAUTH", "PRIVATE_X", "COOKIE_JAR", "SESSION"] {
            #expect(SecretRedactor.looksSecret(name: name), "\(name)")
        }
        for name in ["HOME", "PATH", "DATABASE_URL", "SLACK_WEBHOOK_URL", "STRIPE_SK", "K", ""] {
            #expect(!SecretRedactor.looksSecret(name: name), "\(name)")
        }
    }

    @Test("redact(arguments:): secret options in both forms, glued -p for MySQL tools, the value rules", arguments: [
        (["app", "--password=hunter2"], ["app", "--password=\(r)"]),
        (["app", "--password", "hunter2", "--verbose"], ["app", "--password", r, "--verbose"]),
        (["app", "--passwd", "hunter2"], ["app", "--passwd", r]),
        (["app", "--token", "abc"], ["app", "--token", r]),
        (["app", "--token=abc"], ["app", "--token=\(r)"]),
        (["app", "--api-key", "abc"], ["app", "--api-key", r]),
        (["app", "--apikey", "abc"], ["app", "--apikey", r]),
        (["app", "--api_key=abc"], ["app", "--api_key=\(r)"]),
        (["app", "--secret", "abc"], ["app", "--secret", r]),
        (["app", "--client-secret", "abc"], ["app", "--client-secret", r]),
        (["app", "--access-key", "abc"], ["app", "--access-key", r]),
        (["app", "--auth", "user:pass"], ["app", "--auth", r]),
        (["app", "--key", "abc"], ["app", "--key", r]),
        (["app", "--Session-Cookie", "abc"], ["app", "--Session-Cookie", r]),
        (["app", "--credentials", "-abc"], ["app", "--credentials", r]),
        (["plink", "-pw", "hunter2", "host"], ["plink", "-pw", r, "host"]),
        (["app", "-token", "abc"], ["app", "-token", r]),
        (["app", "-token=abc"], ["app", "-token=\(r)"]),
        (["mysql", "-uroot", "-phunter2", "orders"], ["mysql", "-uroot", "-p\(r)", "orders"]),
        (["/usr/bin/mysqldump", "-psecret", "db"], ["/usr/bin/mysqldump", "-p\(r)", "db"]),
        (["mariadb", "-ps3cret"], ["mariadb", "-p\(r)"]),
        (["curl", "-H", "Authorization: Bearer abc123def456ghi789", "https://u:p@h/"],
         ["curl", "-H", "Authorization: \(r)", "https://u:\(r)@h/"]),
        (["git", "push", "https://oauth2:" + fakeToken("gl" + "pat-", 20) + "@gitlab.com/o/r.git"], ["git", "push", "https://oauth2:\(r)@gitlab.com/o/r.git"]),
        (["env", "DB_PASSWORD=hunter2", "app"], ["env", "DB_PASSWORD=\(r)", "app"]),
        (["/bin/sh", "-c", "sleep 30", "sh", "--password=hunter2", "--api-key", "abc123secret"],
         ["/bin/sh", "-c", "sleep 30", "sh", "--password=\(r)", "--api-key", r]),
        (["app", fakeToken("gh" + "p_", 36)], ["app", r]),
        // curl: what follows the first colon of -u / --user / -U / --proxy-user.
        (["curl", "-u", "alice:S3cret", "https://h/"], ["curl", "-u", "alice:\(r)", "https://h/"]),
        (["/usr/bin/curl", "--user=bob:pw:with:colons"], ["/usr/bin/curl", "--user=bob:\(r)"]),
        (["curl", "--user", "bob:pw"], ["curl", "--user", "bob:\(r)"]),
        (["curl", "-ualice:pw"], ["curl", "-ualice:\(r)"]),
        (["curl", "-U", "proxy:pw", "--proxy-user=p2:pw2"], ["curl", "-U", "proxy:\(r)", "--proxy-user=p2:\(r)"]),
        (["app", "--password=", "hunter2"], ["app", "--password=", r]),
        (["app", "--dbpass", "hunter2", "--creds", "a:b"], ["app", "--dbpass", r, "--creds", r]),
        (["sh", "-c", "mysql --password hunter2 db"], ["sh", "-c", "mysql --password \(r) db"]),
    ] as [([String], [String])])
    func redactsArguments(_ arguments: [String], _ expected: [String]) {
        #expect(SecretRedactor.redact(arguments: arguments) == expected)
    }

    @Test("redact(arguments:): near misses are kept", arguments: [
        ["xkbcomp", "--keyboard", "us"],
        ["git", "commit", "--author", "Jane <jane@example.com>"],
        ["app", "--no-auth", "notes.txt"],
        ["app", "--token", "--verbose"],
        ["mkdir", "-p", "/tmp/x"],
        ["ssh", "-p2222", "host"],
        ["mysql", "-p", "orders"],
        ["mysql", "-P3306"],
        ["--password", "x"],
        ["app", "--keyboard=us", "--authors-file", "A"],
        ["sleep", "30"],
        ["curl", "-u", "alice", "https://h/"],
        ["sudo", "-u", "root", "ls"],
        ["docker", "run", "--user", "1000:1000", "img"],
        ["docker", "run", "-u", "1000:1000", "img"],
        ["sort", "-u", "a:b"],
        ["git", "--bypass", "x"],
        [],
    ])
    func keepsArguments(_ arguments: [String]) {
        #expect(SecretRedactor.redact(arguments: arguments) == arguments)
    }

    @Test("any input: no crash, and a secret between spaces never survives whatever surrounds it")
    func randomInput() {
        var generator = SplitMix(seed: 42)
        let fragments = ["://", "@", ":", "=", " ", "\"", "'", "-", "_", ".", "/", "password", "sk-", "gh" + "p_", "eyJ", "xo" + "xb-",
                         "Bearer ", "hooks.slack.com/services/", "AK" + "IA", "\n", "&", ";", "{", "}", "\\", "é", "\u{FFFD}"]
        let secrets = [fakeToken("gh" + "p_", 36), fakeToken("sk" + "-proj-", 40), fakeJWT, fakeToken("sk" + "_live_", 24),
                       "xo" + "xb-123456789012-" + fakeToken("", 24)]
        for _ in 0..<2_000 {
            var noise = ""
            for _ in 0..<Int(generator.next() % 12) {
                noise += fragments[Int(generator.next() % UInt64(fragments.count))]
                if generator.next() % 3 == 0 { noise += String(UnicodeScalar(UInt8(generator.next() % 128))) }
            }
            let secret = secrets[Int(generator.next() % UInt64(secrets.count))]
            let value = noise + " " + secret + " " + String(noise.reversed())
            let redacted = SecretRedactor.redact(value: value)
            #expect(!redacted.contains(secret), "\(value)")
            _ = SecretRedactor.redact(arguments: ["mysql", noise, "-p" + noise, "--token", noise])
        }
        // Bytes that are not UTF-8 at all.
        for _ in 0..<500 {
            let bytes = (0..<Int(generator.next() % 64)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            _ = SecretRedactor.redact(value: String(decoding: bytes, as: UTF8.self))
        }
    }

    @Test("inputs built to make a scan quadratic finish", .timeLimit(.minutes(1)))
    func pathological() {
        // 128 KiB, the largest single argument or variable Linux allows.
        for unit in ["sk-", "eyJa.", "a=", "x: ", "bearer ", "://a:", "\"a\":"] {
            let value = String(repeating: unit, count: (128 << 10) / unit.utf8.count)
            _ = SecretRedactor.redact(value: value)
        }
    }
}

/// A small deterministic generator, so a failure can be replayed.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
