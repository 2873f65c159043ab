import CPFShims

extension MultiBufferSHA256 {
    /// Which compression function hashes the lanes: 16 lanes of AVX-512, 8 of AVX2, or libcrypto
    /// one stream at a time.
    public enum Kernel: String, Sendable, CaseIterable, CustomStringConvertible {
        /// 16 lanes of 32-bit words in AVX-512F/BW registers.
        case avx512
        /// 8 lanes in AVX2 registers.
        case avx2
        /// libcrypto, one stream after another (its own SIMD or SHA extensions where the CPU has them).
        case scalar

        /// How many streams it hashes at once.
        public var lanes: Int {
            switch self {
            case .avx512: 16
            case .avx2: 8
            case .scalar: 1
            }
        }

        /// Whether this CPU runs it (asked of the CPU at run time; `scalar` always runs).
        public var isSupported: Bool {
            self == .scalar || pf_sha256_mb_supported(Int32(lanes)) == 1
        }

        /// Below how many busy lanes the streams left are finished by libcrypto instead: a lane of
        /// the kernel hashes at its throughput ÷ lanes, so with few lanes busy one stream after
        /// another is faster (measured without SHA-NI: AVX-512 1.9 GB/s, AVX2 0.6 GB/s across
        /// lanes, libcrypto 0.39 GB/s: break-even near 3 and 5 busy lanes).
        var scalarBelow: Int {
            switch self {
            case .avx512: 4
            case .avx2: 6
            case .scalar: 2
            }
        }

        /// The widest kernel this CPU runs, `scalar` on a CPU with SHA extensions (libcrypto then
        /// hashes one stream about as fast as 16 lanes together), or the one the environment
        /// variable `PFHOST_SHA256_KERNEL` names (`avx512`, `avx2`, `scalar`: tests and
        /// measurements; one this CPU lacks gives `scalar`).
        public static var `default`: Kernel {
            switch pf_sha256_mb_default_lanes() {
            case 16: .avx512
            case 8: .avx2
            default: .scalar
            }
        }

        /// The kernels this CPU runs, widest first (`scalar` last, always there).
        public static var supported: [Kernel] { allCases.filter(\.isSupported) }

        /// Its name: `avx512`, `avx2` or `scalar`.
        public var description: String { rawValue }
    }
}
