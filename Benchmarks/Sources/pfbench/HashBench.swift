import Foundation
import PFModel

/// `pfbench sha256 [--mib N] [--streams N] [--runs N]`: the SHA-256 kernels' throughput across
/// lanes, hashing N MiB in memory split into equal streams (a memcpy per chunk, as a pread from the
/// page cache would cost), each kernel in turn; `scalar` is libcrypto one stream at a time.
enum HashBench {
    static func run(_ options: [String: String]) {
        let mib = Int(options["mib"] ?? "") ?? 256
        let streamCount = Int(options["streams"] ?? "") ?? 64
        let runs = Int(options["runs"] ?? "") ?? 3
        let streamSize = (mib << 20) / streamCount
        let source = (0..<streamSize).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 11) }
        print("kernel    lanes  MB/s (best of \(runs); \(streamCount) streams of \(streamSize >> 10) KiB)")
        for kernel in MultiBufferSHA256.Kernel.supported {
            let hasher = MultiBufferSHA256(kernel: kernel)
            var best = Double.infinity
            var digests: [Result<Digest, Never>] = []
            for _ in 0..<runs {
                let start = DispatchTime.now().uptimeNanoseconds
                digests = source.withUnsafeBytes { bytes in
                    hasher.digests(sizes: Array(repeating: Int64(streamSize), count: streamCount)) { (_, buffer, offset) -> Int in
                        let count = min(buffer.count, streamSize - Int(offset))
                        buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[Int(offset) ..< Int(offset) + count]))
                        return count
                    } sizeChanged: { _, _ in fatalError("the source does not change") }
                }
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            precondition(digests.allSatisfy { if case .success(let digest) = $0 { digest == Digest.of(source) } else { false } }, "\(kernel) gave a wrong digest")
            let rate = Double(streamSize * streamCount) / best / 1e6
            print("\(kernel.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(String(kernel.lanes).padding(toLength: 6, withPad: " ", startingAt: 0)) \(String(format: "%.0f", rate))")
        }
    }
}
