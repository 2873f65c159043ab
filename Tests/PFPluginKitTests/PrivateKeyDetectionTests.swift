import PFPluginKit
import Testing

/// A PEM-style header line, built at run time so that no file of the repository looks like it
/// holds a key.
func beginLine(_ label: String, dashes: String = "-----", space: String = "") -> String {
    dashes + space + "BEGIN " + label + space + dashes
}

func containsPrivateKey(_ text: String) -> Bool {
    Array(text.utf8).withUnsafeBytes { SecretRedactor.containsPrivateKey($0) }
}

@Suite("SecretRedactor.containsPrivateKey")
struct PrivateKeyDetectionTests {
    static let body = "\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END KEY-----\n"

    @Test("every private key header is found, at the start, the end or inside other text", arguments: [
        beginLine("PRIVATE KEY") + body,
        beginLine("RSA PRIVATE KEY") + body,
        beginLine("EC PRIVATE KEY") + body,
        beginLine("DSA PRIVATE KEY") + body,
        beginLine("ENCRYPTED PRIVATE KEY") + body,
        beginLine("OPENSSH PRIVATE KEY") + body,
        beginLine("PGP PRIVATE KEY BLOCK") + body,
        beginLine("SSH2 ENCRYPTED PRIVATE KEY", dashes: "----", space: " ") + body,
        "PuTTY-User-" + "Key-File-3: ssh-ed25519\nEncryption: none\n",
        "config:\n  key: |\n    " + beginLine("RSA PRIVATE KEY") + body,
        "# deploy key\r\n" + beginLine("OPENSSH PRIVATE KEY"),
        beginLine("EC PRIVATE KEY"),
        String(decoding: [0xff, 0x00, 0x4b, 0x4b, 0xfe], as: UTF8.self) + beginLine("PRIVATE KEY") + "\u{0}\u{1}",
    ])
    func found(_ text: String) {
        #expect(containsPrivateKey(text))
    }

    @Test("public keys, certificates, prose and truncated headers are not keys", arguments: [
        "",
        "K",
        "KEY",
        beginLine("PUBLIC KEY") + body,
        beginLine("CERTIFICATE") + body,
        beginLine("RSA PUBLIC KEY"),
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host\n",
        "Store the PRIVATE KEY somewhere safe. Keys rotate monthly.",
        "-----END PRIVATE KEY-----",
        "-----BEGIN RSA PRIVATE KEY",
        "BEGIN RSA PRIVATE KEY-----",
        "-----BEGIN rsa PRIVATE KEY-----",
        "PuTTY-User-Key-File: missing version",
        "PuTTY-User-" + "Key-File-",
        String(repeating: "K", count: 100_000),
        String(repeating: "PRIVATE KEY ", count: 1_000),
    ])
    func notFound(_ text: String) {
        #expect(!containsPrivateKey(text))
    }

    @Test("a header cut at any point is never mistaken for a key, and never read past the end")
    func everyPrefix() {
        let header = Array(beginLine("OPENSSH PRIVATE KEY").utf8)
        for count in 0..<header.count {
            // An allocation of exactly `count` bytes: the scan sees only those (and a run with the
            // address sanitizer catches any read past them).
            let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 1)
            defer { copy.deallocate() }
            header.withUnsafeBytes { copy.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            #expect(!SecretRedactor.containsPrivateKey(UnsafeRawBufferPointer(copy)), "\(count) bytes")
        }
        #expect(header.withUnsafeBytes { SecretRedactor.containsPrivateKey($0) })
    }

    @Test("random bytes: no crash; a key header dropped into them is found")
    func randomBytes() {
        var generator = SplitMix(seed: 7)
        let header = Array(beginLine("RSA PRIVATE KEY").utf8)
        for _ in 0..<500 {
            var bytes = (0..<Int(generator.next() % 4_096)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            _ = bytes.withUnsafeBytes { SecretRedactor.containsPrivateKey($0) }
            bytes.insert(contentsOf: header + [0x0a], at: Int(generator.next() % UInt64(bytes.count + 1)))
            #expect(bytes.withUnsafeBytes { SecretRedactor.containsPrivateKey($0) })
        }
    }
}
