import Testing
@testable import PFModel

@Suite("Digest")
struct DigestTests {
    @Test("hashes the FIPS 180-2 test vectors")
    func vectors() {
        #expect(Digest.of([]).description == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Digest.of(Array("abc".utf8)).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(Digest.of(million).hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("streaming in pieces gives the same digest as one call")
    func streaming() {
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let hasher = SHA256Hasher()
        var offset = 0
        for size in [1, 7, 64, 1000, 4096, 10_000] where offset < bytes.count {
            let end = min(bytes.count, offset + size)
            hasher.update(bytes[offset..<end])
            offset = end
        }
        hasher.update(bytes[offset...])
        #expect(hasher.finalize() == Digest.of(bytes))
    }

    @Test("parses what it prints")
    func roundTrip() throws {
        let digest = Digest.of(Array("hello".utf8))
        #expect(try Digest(parsing: digest.description) == digest)
        #expect(try Digest(hex: digest.hex) == digest)
    }

    @Test("refuses malformed digests, saying why", arguments: [
        ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "expected 'sha256:<64 lowercase hex digits>'"),
        ("sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "algorithm 'sha512' is not supported"),
        ("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", "must be lowercase"),
        ("sha256:e3b0c4", "6 hex digits, expected 64"),
        ("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85g", "not a hex string"),
    ])
    func rejects(text: String, reason: String) {
        #expect {
            try Digest(parsing: text)
        } throws: { error in
            "\(error)".contains(reason) && "\(error)".contains(text)
        }
    }

    @Test("decoding JSON checks the digest")
    func decoding() throws {
        #expect(throws: (any Error).self) {
            try CanonicalJSON.decode(Digest.self, from: Array(#""sha256:abc""#.utf8))
        }
    }
}
