#if canImport(Glibc)
import Glibc
#endif

/// A mutex with a condition variable, guarding a value: what `Synchronization.Mutex` lacks when
/// threads must wait for each other (a restore waiting for the blob another thread is hashing).
///
/// `@unchecked Sendable`: the value is only reached with the mutex held.
final class ConditionLock<Value>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let value: UnsafeMutablePointer<Value>

    init(_ initial: Value) {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        value = .allocate(capacity: 1)
        value.initialize(to: initial)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
        value.deinitialize(count: 1)
        value.deallocate()
    }

    /// Runs `body` with the mutex held. `body` gets the value and a `wait` function that releases
    /// the mutex until ``broadcast()`` (or a spurious wake-up: check the condition in a loop) and
    /// takes it again.
    func withLock<Result, Failure: Error>(
        _ body: (UnsafeMutablePointer<Value>, _ wait: () -> Void) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(value) { pthread_cond_wait(condition, mutex) }
    }

    /// Wakes every thread waiting in ``withLock(_:)``.
    func broadcast() {
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }
}
