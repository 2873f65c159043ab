import CPFShims

/// An incremental SHA-256 computation backed by the system's libcrypto, which uses the
/// CPU's SHA extensions where present.
///
/// ```swift
/// let hasher = SHA256Hasher()
/// hasher.update(chunk1)
/// hasher.update(chunk2)
/// let digest = hasher.finalize()
/// ```
///
/// A hasher is used by one thread at a time and finalised once.
public final class SHA256Hasher {
    private var state: OpaquePointer?

    /// A hasher with no bytes fed yet.
    public init() {
        guard let state = pf_sha256_new() else {
            fatalError("libcrypto could not allocate a SHA-256 state (out of memory)")
        }
        self.state = state
    }

    deinit { pf_sha256_free(state) }

    /// Feeds the bytes in `buffer`.
    public func update(_ buffer: UnsafeRawBufferPointer) {
        guard let state, let base = buffer.baseAddress, buffer.count > 0 else { return }
        precondition(pf_sha256_update(state, base, buffer.count) == 1, "SHA-256 update failed")
    }

    /// Feeds the bytes of `bytes`.
    public func update<Bytes: Sequence<UInt8>>(_ bytes: Bytes) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        if done == nil {
            Array(bytes).withUnsafeBytes { update($0) }
        }
    }

    /// The digest of everything fed. The hasher cannot be used afterwards.
    public func finalize() -> Digest {
        guard let state else { preconditionFailure("SHA256Hasher finalised twice") }
        var out = [UInt8](repeating: 0, count: 32)
        precondition(pf_sha256_final(state, &out) == 1, "SHA-256 final failed")
        pf_sha256_free(state)
        self.state = nil
        return Digest(sha256: out)
    }
}
