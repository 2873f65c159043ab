import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Runs transfer jobs on a few threads, each with its own ``RegistryClient`` (its own kept-alive
/// connection): blobs of a snapshot go up or down side by side, which is what hides a registry's
/// per-request latency. The first job to fail stops the others from starting; its error is thrown.
enum TransferPool {
    /// Runs `job` on every item of `items` on up to `width` threads (this one included) and waits for all.
    static func run(_ items: [GraphNode], width: Int, session: RegistrySession, first client: RegistryClient,
                    job: @escaping @Sendable (GraphNode, RegistryClient) throws(RegistryError) -> Void) throws(RegistryError) {
        guard !items.isEmpty else { return }
        let state = State(items: items, job: job, session: session)
        let helpers = min(max(width, 1), items.count) - 1
        var threads: [pthread_t] = []
        for _ in 0..<helpers {
            var thread = pthread_t()
            let box = Unmanaged.passRetained(state).toOpaque()
            let status = pthread_create(&thread, nil, { argument in
                let state = Unmanaged<State>.fromOpaque(argument!).takeRetainedValue()
                do throws(RegistryError) {
                    let client = try RegistryClient(session: state.session)
                    state.work(client)
                } catch {
                    state.fail(error)
                }
                return nil
            }, box)
            if status == 0 { threads.append(thread) } else { Unmanaged<State>.fromOpaque(box).release() }
        }
        state.work(client)
        for thread in threads { pthread_join(thread, nil) }
        if let error = state.failure.withLock({ $0 }) { throw error }
    }

    private final class State: Sendable {
        let items: [GraphNode]
        let job: @Sendable (GraphNode, RegistryClient) throws(RegistryError) -> Void
        let session: RegistrySession
        let next = Atomic<Int>(0)
        let failure = Mutex<RegistryError?>(nil)

        init(items: [GraphNode], job: @escaping @Sendable (GraphNode, RegistryClient) throws(RegistryError) -> Void, session: RegistrySession) {
            self.items = items
            self.job = job
            self.session = session
        }

        func work(_ client: RegistryClient) {
            while failure.withLock({ $0 == nil }) {
                let index = next.add(1, ordering: .relaxed).oldValue
                guard index < items.count else { return }
                do { try job(items[index], client) } catch { fail(error) }
            }
        }

        func fail(_ error: RegistryError) {
            failure.withLock { if $0 == nil { $0 = error } }
        }
    }
}
