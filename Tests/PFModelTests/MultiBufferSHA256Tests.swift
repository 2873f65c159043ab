import Testing
@testable import PFModel

/// Multi-buffer SHA-256 gives, for every stream, the digest libcrypto gives (`Digest.of`), whatever
/// the kernel, the chunk size, the lane a stream lands in and the point where libcrypto takes over.
@Suite("Multi-buffer SHA-256")
struct MultiBufferSHA256Tests {
    /// Why a stream of the tests failed.
    struct StreamFailure: Error, Equatable {
        let index: Int
        let reason: String
    }

    /// How a test source misbehaves: a read error at an offset, an end before its size, bytes past it.
    enum Fault { case readError(at: Int64), endsAt(Int64), grows }

    /// Hashes `streams` from memory with `hasher`, `faults` making some of them misbehave.
    static func hash(_ streams: [[UInt8]], with hasher: MultiBufferSHA256, faults: [Int: Fault] = [:]) -> [Result<Digest, StreamFailure>] {
        hasher.digests(sizes: streams.map { Int64($0.count) }) { (index, buffer, offset) throws(StreamFailure) -> Int in
            var available = Int64(streams[index].count)
            switch faults[index] {
            case .readError(let at)? where offset >= at: throw StreamFailure(index: index, reason: "read error at \(offset)")
            case .endsAt(let end)?: available = end
            case .grows?: if offset >= available { return 1 }
            default: break
            }
            let count = Int(max(0, min(Int64(buffer.count), available - offset)))
            streams[index].withUnsafeBytes { bytes in
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[Int(offset) ..< Int(offset) + count]))
            }
            return count
        } sizeChanged: { index, offset in
            StreamFailure(index: index, reason: "size changed at \(offset)")
        }
    }

    /// `count` bytes that differ from stream to stream (`seed`).
    static func bytes(_ count: Int, seed: Int) -> [UInt8] {
        var state = UInt64(truncatingIfNeeded: seed) &* 0x9E37_79B9_7F4A_7C15 &+ 1
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    /// A hasher with `kernel` that never hands lanes to libcrypto (`scalarBelow` 1): the kernel
    /// hashes every block, padding included.
    static func kernelOnly(_ kernel: MultiBufferSHA256.Kernel, chunkSize: Int = 256 << 10) -> MultiBufferSHA256 {
        var hasher = MultiBufferSHA256(kernel: kernel, chunkSize: chunkSize)
        hasher.scalarBelow = 1
        return hasher
    }

    /// Checks every stream's digest is `Digest.of` its bytes.
    static func expectLibcryptoDigests(_ streams: [[UInt8]], _ results: [Result<Digest, StreamFailure>],
                                       sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(results.count == streams.count, sourceLocation: sourceLocation)
        for (stream, result) in zip(streams, results) {
            #expect(result == .success(Digest.of(stream)), "a stream of \(stream.count) bytes", sourceLocation: sourceLocation)
        }
    }

    @Test("names the kernels this CPU lacks, whose tests below are skipped")
    func skippedKernels() throws {
        let missing = MultiBufferSHA256.Kernel.allCases.filter { !$0.isSupported }
        #expect(MultiBufferSHA256.Kernel.supported.last == .scalar)
        if !missing.isEmpty {
            try Test.cancel("this CPU lacks \(missing.map(\.rawValue).joined(separator: ", ")): their tests are skipped")
        }
    }

    @Test("every length from 0 to 300 bytes, each in every lane at once, hashed by the kernel alone",
          arguments: MultiBufferSHA256.Kernel.supported)
    func everyShortLength(kernel: MultiBufferSHA256.Kernel) {
        let hasher = Self.kernelOnly(kernel, chunkSize: 64)
        for length in 0...300 {
            let streams = (0..<kernel.lanes).map { Self.bytes(length, seed: length * 100 + $0) }
            Self.expectLibcryptoDigests(streams, Self.hash(streams, with: hasher))
        }
    }

    @Test("the padding's boundaries and chunk boundaries (55, 56, 63, 64, 119, 120, 1 MiB ± 1)",
          arguments: MultiBufferSHA256.Kernel.supported)
    func boundaries(kernel: MultiBufferSHA256.Kernel) {
        let lengths = [55, 56, 63, 64, 119, 120, 1 << 20 - 1, 1 << 20, 1 << 20 + 1]
        let streams = lengths.enumerated().map { Self.bytes($0.element, seed: $0.offset) }
        for chunkSize in [4096, 256 << 10] {
            Self.expectLibcryptoDigests(streams, Self.hash(streams, with: Self.kernelOnly(kernel, chunkSize: chunkSize)))
            Self.expectLibcryptoDigests(streams, Self.hash(streams, with: MultiBufferSHA256(kernel: kernel, chunkSize: chunkSize)))
        }
    }

    @Test("the NIST vectors: abc, the 448-bit message, a million a", arguments: MultiBufferSHA256.Kernel.supported)
    func nistVectors(kernel: MultiBufferSHA256.Kernel) {
        let streams = [Array("abc".utf8), Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8),
                       [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)]
        let expected = ["ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
                        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"]
        for hasher in [Self.kernelOnly(kernel), MultiBufferSHA256(kernel: kernel)] {
            #expect(Self.hash(streams, with: hasher).map { try? $0.get().hex } == expected)
        }
    }

    @Test("a batch of mixed lengths larger than the lanes: a lane whose stream ends takes the next",
          arguments: MultiBufferSHA256.Kernel.supported)
    func lanesRefilled(kernel: MultiBufferSHA256.Kernel) {
        // Lengths that end anywhere in a block and in a chunk, and streams several chunks long.
        let lengths = (0..<100).map { ($0 * 7919) % 10_000 } + [0, 0, 1, 20_000, 65, 127, 128]
        let streams = lengths.enumerated().map { Self.bytes($0.element, seed: $0.offset) }
        for chunkSize in [64, 1024, 256 << 10] {
            Self.expectLibcryptoDigests(streams, Self.hash(streams, with: MultiBufferSHA256(kernel: kernel, chunkSize: chunkSize)))
            Self.expectLibcryptoDigests(streams, Self.hash(streams, with: Self.kernelOnly(kernel, chunkSize: chunkSize)))
        }
    }

    @Test("libcrypto takes over from a lane anywhere: mid-stream, at the stream's end, between the two padding blocks",
          arguments: MultiBufferSHA256.Kernel.supported)
    func scalarTakesOver(kernel: MultiBufferSHA256.Kernel) {
        // With libcrypto taking over as soon as one stream is done, the others stop wherever the
        // shortest ended: [60, 0] leaves the 60-byte stream with only its length block (its
        // padding takes two blocks), [64, 0] at its very end, [1000, 50, 3000] mid-stream.
        // [120, 64, 5000, 5000]: the lanes after one whose last block the kernel hashes alone keep
        // their state.
        for lengths in [[60, 0], [119, 64], [1000, 50, 3000], [64, 0], [0], [56, 55, 120, 119, 10_000], [120, 64, 5000, 5000]] {
            var hasher = MultiBufferSHA256(kernel: kernel, chunkSize: 128)
            hasher.scalarBelow = lengths.count
            let streams = lengths.enumerated().map { Self.bytes($0.element, seed: $0.offset) }
            Self.expectLibcryptoDigests(streams, Self.hash(streams, with: hasher))
        }
    }

    @Test("a stream that cannot be read, ends early or grows fails alone", arguments: MultiBufferSHA256.Kernel.supported)
    func failuresStayWithTheirStream(kernel: MultiBufferSHA256.Kernel) {
        let streams = (0..<40).map { Self.bytes(5000 + 97 * $0, seed: $0) }
        let faults: [Int: Fault] = [3: .readError(at: 1024), 5: .endsAt(4000), 7: .grows, 8: .readError(at: 0), 9: .endsAt(0)]
        let results = Self.hash(streams, with: MultiBufferSHA256(kernel: kernel, chunkSize: 1024), faults: faults)
        for (index, result) in results.enumerated() {
            switch faults[index] {
            case nil: #expect(result == .success(Digest.of(streams[index])))
            case .readError(let at)?: #expect(result == .failure(StreamFailure(index: index, reason: "read error at \(at)")))
            case .endsAt(let end)?: #expect(result == .failure(StreamFailure(index: index, reason: "size changed at \(end)")))
            case .grows?: #expect(result == .failure(StreamFailure(index: index, reason: "size changed at \(streams[index].count)")))
            }
        }
    }
}
