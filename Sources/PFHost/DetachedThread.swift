#if canImport(Glibc)
import Glibc
#endif

/// Runs closures on detached pthreads of their own: captures and the watchers of capture
/// processes block for as long as a plugin likes, which Dispatch's shared pool must not.
enum DetachedThread {
    private final class Body: Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// Starts `body` on a new detached thread. Returns 0, or the `pthread_create` error (and
    /// `body` never runs).
    static func start(_ body: @escaping @Sendable () -> Void) -> Int32 {
        var thread = pthread_t()
        let argument = Unmanaged.passRetained(Body(body)).toOpaque()
        let status = pthread_create(&thread, nil, { argument in
            Unmanaged<Body>.fromOpaque(argument!).takeRetainedValue().run()
            return nil
        }, argument)
        guard status == 0 else {
            Unmanaged<Body>.fromOpaque(argument).release()
            return status
        }
        pthread_detach(thread)
        return 0
    }
}
