import PFSystem
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes buffers to a file on a second thread while the caller fills and hashes the next ones,
/// so that ingesting a large file uses both cores: one hashing, one copying into the store.
///
/// The caller takes a free buffer with ``acquire()``, fills it, and hands it over with
/// ``submit(_:count:)``; ``finish()`` waits for every write and reports the first failure.
/// The bytes written are exactly the bytes the caller hashed: the same buffer, in order.
final class WritePipeline: @unchecked Sendable {
    // @unchecked: a buffer belongs either to the caller (between acquire and submit) or to the
    // writer thread (between submit and its release), handed over through the semaphores, never both.
    private let fd: Int32
    private let path: String
    private let system: SystemCalls
    let buffers: [UnsafeMutableRawBufferPointer]
    private let freeCount: DispatchSemaphore
    private let filledCount = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let freeList: Mutex<[Int]>
    private let queue = Mutex<[(index: Int, count: Int)]>([])
    private let failure = Mutex<SystemCallError?>(nil)

    init(fd: Int32, path: String, system: SystemCalls, buffers count: Int = 4, bufferSize: Int = 1 << 20) {
        self.fd = fd
        self.path = path
        self.system = system
        // mmap rather than malloc: the pages go back to the system at munmap, where malloc would
        // keep freed multi-megabyte blocks and let peak RSS grow with the number of files.
        buffers = (0..<count).map { _ in
            guard let memory = mmap(nil, bufferSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                  memory != MAP_FAILED else { fatalError("cannot map \(bufferSize) bytes for a write buffer") }
            return UnsafeMutableRawBufferPointer(start: memory, count: bufferSize)
        }
        freeCount = DispatchSemaphore(value: count)
        freeList = Mutex(Array(0..<count))
        DispatchQueue.global(qos: .userInitiated).async { [self] in writeLoop() }
    }

    deinit {
        for buffer in buffers { munmap(buffer.baseAddress, buffer.count) }
    }

    /// Whether a write has failed (the caller may stop reading).
    var hasFailed: Bool { failure.withLock { $0 != nil } }

    /// A free buffer's index, waiting for the writer to release one.
    func acquire() -> Int {
        freeCount.wait()
        return freeList.withLock { $0.removeLast() }
    }

    /// Gives back a buffer that was not filled.
    func release(_ index: Int) {
        freeList.withLock { $0.append(index) }
        freeCount.signal()
    }

    /// Queues the first `count` bytes of buffer `index` for writing.
    func submit(_ index: Int, count: Int) {
        queue.withLock { $0.append((index, count)) }
        filledCount.signal()
    }

    /// Waits until everything queued is written; throws the first write failure.
    func finish() throws(SystemCallError) {
        queue.withLock { $0.append((-1, 0)) }
        filledCount.signal()
        finished.wait()
        if let error = failure.withLock({ $0 }) { throw error }
    }

    private func writeLoop() {
        while true {
            filledCount.wait()
            let item = queue.withLock { $0.removeFirst() }
            if item.index < 0 { break }
            if failure.withLock({ $0 == nil }) {
                do {
                    try system.write(fd, buffers[item.index].baseAddress!, count: item.count, path: path)
                } catch {
                    failure.withLock { $0 = error }
                }
            }
            release(item.index)
        }
        finished.signal()
    }
}
