import PFPluginKit
import Testing

/// A key whose header is cut anywhere between two pieces, or fed a byte at a time, is found as in
/// one buffer.
@Suite("PrivateKeyScanner")
struct PrivateKeyScannerTests {
    static let headers = [
        beginLine("RSA PRIVATE KEY"),
        beginLine("OPENSSH PRIVATE KEY"),
        // A long label (the detector accepts up to about 65 bytes of label).
        beginLine(String(repeating: "A", count: 60) + " PRIVATE KEY"),
        beginLine("SSH2 ENCRYPTED PRIVATE KEY", dashes: "----", space: " "),
        "PuTTY-User-" + "Key-File-3: ssh-ed25519",
    ]

    @Test("a header cut at every offset between two pieces, after a prefix of every length around the overlap", arguments: headers)
    func seams(header: String) {
        let text = Array(("<html><body><pre>" + header + "\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n</pre>").utf8)
        #expect(text.withUnsafeBytes { SecretRedactor.containsPrivateKey($0) })
        for padding in [0, 1, 200, PrivateKeyScanner.overlap - 1, PrivateKeyScanner.overlap, 1000] {
            let bytes = Array(repeating: UInt8(ascii: " "), count: padding) + text
            for cut in 0...bytes.count {
                var scanner = PrivateKeyScanner()
                scanner.scan(Array(bytes[..<cut]))
                let found = scanner.scan(Array(bytes[cut...]))
                #expect(found, "padding \(padding), cut \(cut)")
            }
        }
    }

    @Test("a byte at a time, and in pieces of 7", arguments: headers)
    func smallPieces(header: String) {
        let bytes = Array(String(repeating: "x", count: 300).utf8) + Array(header.utf8) + Array("\n".utf8)
        var single = PrivateKeyScanner()
        for byte in bytes { single.scan([byte]) }
        #expect(single.found)
        var sevens = PrivateKeyScanner()
        for start in stride(from: 0, to: bytes.count, by: 7) { sevens.scan(Array(bytes[start..<min(bytes.count, start + 7)])) }
        #expect(sevens.found)
    }

    @Test("pieces without a key, however cut, are not one; a public key split in two is not one")
    func noKey() {
        let text = Array(("<html>" + String(repeating: "KEY PRIVATE BEGIN ----- ", count: 50) + beginLine("PUBLIC KEY") + "</html>").utf8)
        for cut in stride(from: 0, through: text.count, by: 13) {
            var scanner = PrivateKeyScanner()
            scanner.scan(Array(text[..<cut]))
            let found = scanner.scan(Array(text[cut...]))
            #expect(!found, "cut \(cut)")
        }
    }
}
