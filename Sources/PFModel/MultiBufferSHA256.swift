import CPFShims

/// Hashes many independent byte streams at once, one per SIMD lane (the "multi-buffer" technique).
///
/// SHA-256 of one stream is serial: each 64-byte block needs the state the previous one left. On a
/// CPU without SHA extensions libcrypto hashes about 0.4 GB/s, more CPU than copying the bytes.
/// But a restore checks dozens of independent blobs, so this type runs up to 16 of them through
/// one compression function side by side (AVX-512: 16 lanes of 32-bit words; AVX2: 8), which
/// hashes about five times as many bytes per second across lanes (docs/performance.md).
///
/// Lanes are kept busy: each reads its stream in chunks of ``chunkSize`` into a buffer of its own
/// (bounded memory: lanes × chunk), the kernel hashes as many blocks as every busy lane has, and a
/// lane whose stream ends takes the next one `next` gives. Each stream's last one or two blocks
/// carry its padding (FIPS 180-4 §5.1.1). Once no stream is left to start and too few lanes are
/// busy for the kernel to beat libcrypto, the streams left are finished by libcrypto, resumed from
/// their lanes' hash values. A stream that cannot be read, or ends before or after its size, fails
/// alone; the others go on.
///
/// ```swift
/// let digests = MultiBufferSHA256().digests(sizes: files.map(\.size)) { index, buffer, offset in
///     try read(files[index], into: buffer, at: offset)    // 0 at the end of the stream
/// } sizeChanged: { index, offset in
///     .changed(files[index], at: offset)
/// }
/// ```
public struct MultiBufferSHA256: Sendable {
    /// The kernel that hashes the lanes.
    public let kernel: Kernel
    /// Bytes read at a time into each lane's buffer (a multiple of 64).
    public let chunkSize: Int
    /// Below how many busy lanes, once no stream is left to start, libcrypto finishes the rest
    /// (``Kernel``'s measured break-even; tests move it to reach every path).
    var scalarBelow: Int

    /// A hasher with `kernel` (by default the widest this CPU runs, see ``Kernel/default``), reading
    /// `chunkSize` bytes at a time per lane (rounded up to a multiple of 64, from 64 bytes to 1 GiB).
    public init(kernel: Kernel = .default, chunkSize: Int = 256 << 10) {
        precondition(kernel.isSupported, "the \(kernel) SHA-256 kernel does not run on this CPU")
        self.kernel = kernel
        self.chunkSize = (min(max(chunkSize, 64), 1 << 30) + 63) / 64 * 64
        scalarBelow = kernel.scalarBelow
    }

    /// The digests of streams of `sizes` bytes, in the same order.
    ///
    /// - Parameters:
    ///   - read: reads bytes of stream `index` from `offset` into the buffer, returning how many
    ///     (0 at the stream's end); called from this thread only.
    ///   - sizeChanged: the failure of stream `index` when it ends at `offset` before its size, or
    ///     goes on past it (`offset` is then its size).
    public func digests<Failure: Error>(
        sizes: [Int64],
        read: (_ index: Int, _ buffer: UnsafeMutableRawBufferPointer, _ offset: Int64) throws(Failure) -> Int,
        sizeChanged: (_ index: Int, _ offset: Int64) -> Failure
    ) -> [Result<Digest, Failure>] {
        var results = [Result<Digest, Failure>?](repeating: nil, count: sizes.count)
        var nextIndex = 0
        hash(next: { () -> (id: Int, size: Int64)? in
            guard nextIndex < sizes.count else { return nil }
            defer { nextIndex += 1 }
            return (nextIndex, sizes[nextIndex])
        }, read: read, sizeChanged: sizeChanged, done: { results[$0] = $1 })
        return results.map { $0! }
    }

    /// Hashes the streams `next` gives until it gives nil, calling `done` for each as soon as its
    /// digest (or failure) is known, on this thread.
    ///
    /// `next` is asked whenever a lane is free; once it returns nil it is not asked again, and the
    /// lanes still busy are finished. `id` is the caller's name for the stream in `read`,
    /// `sizeChanged` and `done`.
    public func hash<Failure: Error>(
        next: () -> (id: Int, size: Int64)?,
        read: (_ id: Int, _ buffer: UnsafeMutableRawBufferPointer, _ offset: Int64) throws(Failure) -> Int,
        sizeChanged: (_ id: Int, _ offset: Int64) -> Failure,
        done: (_ id: Int, _ result: Result<Digest, Failure>) -> Void
    ) {
        let laneCount = kernel.lanes
        let bufferSize = chunkSize + 128
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize * laneCount, alignment: 64)
        defer { memory.deallocate() }
        func buffer(_ lane: Int) -> UnsafeMutableRawBufferPointer {
            UnsafeMutableRawBufferPointer(rebasing: memory[lane * bufferSize ..< (lane + 1) * bufferSize])
        }
        // Word-major hash values: word i of lane l at i * laneCount + l.
        var state = [UInt32](repeating: 0, count: 8 * laneCount)
        var lanes = [HashLane?](repeating: nil, count: laneCount)
        var exhausted = false

        /// Reads the lane's next chunk (with the padding if it is the last); false, having reported
        /// the failure, when the stream could not be read or is not of its size.
        func refill(_ lane: inout HashLane, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
            lane.bufferStart += Int64(lane.messageBytes)
            lane.consumed = 0
            let remaining = lane.size - lane.bufferStart
            let wanted = remaining > Int64(chunkSize) ? chunkSize : Int(remaining)
            var got = 0
            do throws(Failure) {
                while got < wanted {
                    let count = try read(lane.id, UnsafeMutableRawBufferPointer(rebasing: buffer[got ..< wanted]), lane.bufferStart + Int64(got))
                    if count <= 0 {
                        done(lane.id, .failure(sizeChanged(lane.id, lane.bufferStart + Int64(got))))
                        return false
                    }
                    got += min(count, wanted - got)
                }
                lane.messageBytes = got
                lane.filled = got
                lane.isLast = lane.bufferStart + Int64(got) == lane.size
                if lane.isLast {
                    // A stream must end at its size: one byte more is a stream that grew.
                    if try read(lane.id, UnsafeMutableRawBufferPointer(rebasing: buffer[got ..< got + 1]), lane.size) > 0 {
                        done(lane.id, .failure(sizeChanged(lane.id, lane.size)))
                        return false
                    }
                    lane.filled = Self.pad(buffer, messageBytes: got, streamSize: lane.size)
                }
                return true
            } catch {
                done(lane.id, .failure(error))
                return false
            }
        }

        /// Starts the next stream in lane `index`, skipping (and reporting) those that fail at once.
        func start(_ index: Int) {
            while !exhausted {
                guard let (id, size) = next() else {
                    exhausted = true
                    return
                }
                guard size >= 0 else {
                    done(id, .failure(sizeChanged(id, 0)))
                    continue
                }
                var lane = HashLane(id: id, size: size)
                for word in 0..<8 { state[word * laneCount + index] = Self.initialHash[word] }
                if refill(&lane, into: buffer(index)) {
                    lanes[index] = lane
                    return
                }
            }
        }

        /// Hashes the rest of lane `index`'s stream with libcrypto, from where the kernel left it.
        func finishScalar(_ index: Int) {
            guard var lane = lanes[index] else { return }
            lanes[index] = nil
            let data = buffer(index)
            if lane.consumed > lane.messageBytes {
                // Only the padding's second block is left (libcrypto cannot resume mid-padding):
                // the kernel hashes it, on a copy of the state, since it changes every lane's.
                var pointers = [UnsafePointer<UInt8>?](repeating: nil, count: laneCount)
                pointers[index] = UnsafePointer(data.baseAddress!.advanced(by: lane.consumed).assumingMemoryBound(to: UInt8.self))
                let others = state
                pf_sha256_mb_blocks(Int32(laneCount), &state, pointers, lane.blocksLeft)
                done(lane.id, .success(digest(of: index)))
                state = others
                return
            }
            let hashValues = (0..<8).map { state[$0 * laneCount + index] }
            guard let resumed = pf_sha256_resume(hashValues, UInt64(lane.hashed)) else {
                fatalError("libcrypto could not allocate a SHA-256 state (out of memory)")
            }
            while true {
                pf_sha256_resumed_update(resumed, data.baseAddress!.advanced(by: lane.consumed), lane.messageBytes - lane.consumed)
                if lane.isLast { break }
                guard refill(&lane, into: data) else {
                    pf_sha256_resumed_free(resumed)
                    return
                }
            }
            var out = [UInt8](repeating: 0, count: 32)
            pf_sha256_resumed_final(resumed, &out)
            done(lane.id, .success(Digest(sha256: out)))
        }

        /// Lane `index`'s digest: its hash values, big-endian (§6.2.2 step 4, §3.1).
        func digest(of index: Int) -> Digest {
            var bytes = [UInt8]()
            bytes.reserveCapacity(32)
            for word in 0..<8 {
                let value = state[word * laneCount + index]
                bytes += [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
            }
            return Digest(sha256: bytes)
        }

        var pointers = [UnsafePointer<UInt8>?](repeating: nil, count: laneCount)
        while true {
            for index in 0..<laneCount where lanes[index] == nil { start(index) }
            let busy = lanes.indices.filter { lanes[$0] != nil }
            if busy.isEmpty { return }
            if kernel == .scalar || (exhausted && busy.count < scalarBelow) {
                for index in busy { finishScalar(index) }
                continue
            }
            let blocks = busy.map { lanes[$0]!.blocksLeft }.min()!
            for index in 0..<laneCount {
                pointers[index] = lanes[index].map {
                    UnsafePointer(buffer(index).baseAddress!.advanced(by: $0.consumed).assumingMemoryBound(to: UInt8.self))
                }
            }
            pf_sha256_mb_blocks(Int32(laneCount), &state, pointers, blocks)
            for index in busy {
                lanes[index]!.consumed += blocks * 64
                guard lanes[index]!.blocksLeft == 0 else { continue }
                if lanes[index]!.isLast {
                    done(lanes[index]!.id, .success(digest(of: index)))
                    lanes[index] = nil
                } else if !refill(&lanes[index]!, into: buffer(index)) {
                    lanes[index] = nil
                }
            }
        }
    }

    /// FIPS 180-4 §5.3.3: the initial hash value H(0).
    static let initialHash: [UInt32] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ]

    /// Appends the padding of FIPS 180-4 §5.1.1 after the `messageBytes` last bytes of a stream of
    /// `streamSize` bytes: a 1 bit, zeros, and the length in bits as 64 bits big-endian, up to a
    /// multiple of 64 bytes. Returns the bytes in the buffer with the padding (one or two blocks
    /// more than whole blocks of the message).
    static func pad(_ buffer: UnsafeMutableRawBufferPointer, messageBytes: Int, streamSize: Int64) -> Int {
        let total = (messageBytes + 9 + 63) / 64 * 64
        buffer[messageBytes] = 0x80
        for index in messageBytes + 1 ..< total - 8 { buffer[index] = 0 }
        // ℓ is defined modulo 2^64 bits, as libcrypto counts it.
        let bits = UInt64(streamSize) &* 8
        for index in 0..<8 { buffer[total - 1 - index] = UInt8(truncatingIfNeeded: bits >> (8 * UInt64(index))) }
        return total
    }
}
