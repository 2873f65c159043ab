import Foundation
import Synchronization
import Testing
import PFModel
import PFSystem
@testable import PFStore

/// Fails the N-th system call (counting from 0) while armed, and records every call.
final class FaultPlan: Sendable {
    private struct State {
        var armed = false
        var failAt: Int?
        var calls: [(SystemCalls.Operation, String)] = []
    }

    private let state = Mutex(State())

    var calls: [(SystemCalls.Operation, String)] { state.withLock { $0.calls } }

    func arm(failAt: Int?) { state.withLock { $0 = State(armed: true, failAt: failAt) } }
    func disarm() { state.withLock { $0.armed = false } }

    var hook: SystemCalls.FaultHook {
        { [self] operation, path in
            state.withLock { state in
                guard state.armed else { return nil }
                defer { state.calls.append((operation, path)) }
                return state.calls.count == state.failAt ? EIO : nil
            }
        }
    }
}

@Suite("Commit under injected faults")
struct FaultInjectionTests {
    /// Writes a second snapshot's blobs and commits it: everything a snapshot does to the store.
    private func takeSnapshot(_ store: SnapshotStore, parent: Digest, extraBlobs: Int) throws -> Digest {
        try store.commitSnapshot(SnapshotFactory.manifest(in: store, seed: "second", parents: [parent], extraBlobs: extraBlobs), tag: "agent")
    }

    /// Each durability mode; batch both with few blobs (an fsync each) and many (one syncfs).
    @Test("a failure at every system call of a snapshot leaves the store valid and the snapshot invisible",
          arguments: [(Durability.none, 0), (.batch, 0), (.batch, 12), (.strict, 0)])
    func everyStep(durability: Durability, extraBlobs: Int) throws {
        // Count the calls of a clean run.
        let plan = FaultPlan()
        let steps: [(SystemCalls.Operation, String)]
        do {
            let dir = TemporaryDirectory()
            let store = try SnapshotStore.openOrCreate(at: dir.path, durability: durability, system: SystemCalls(faultHook: plan.hook))
            let first = try store.commitSnapshot(SnapshotFactory.manifest(in: store, seed: "first"), tag: "agent")
            plan.arm(failAt: nil)
            _ = try takeSnapshot(store, parent: first, extraBlobs: extraBlobs)
            steps = plan.calls
            plan.disarm()
        }
        #expect(steps.count > 20)
        // The operations a snapshot performs include every step of the commit protocol.
        let operations = Set(steps.map(\.0))
        #expect(operations.isSuperset(of: [.open, .write, .close, .rename, .flock, .read]))
        if durability != .none { #expect(operations.contains(.fsync)) }
        // The second snapshot changes every layer: its blobs and ten layer documents are more than
        // batch mode fsyncs one by one.
        #expect(operations.contains(.syncfs) == (durability == .batch))

        var failures = 0
        for failAt in steps.indices {
            let dir = TemporaryDirectory()
            let store = try SnapshotStore.openOrCreate(at: dir.path, durability: durability, system: SystemCalls(faultHook: plan.hook))
            let first = try store.commitSnapshot(SnapshotFactory.manifest(in: store, seed: "first"), tag: "agent")
            let indexBefore = FileManager.default.bytes(dir.file("index.json"))
            plan.arm(failAt: failAt)
            let outcome = Result { try takeSnapshot(store, parent: first, extraBlobs: extraBlobs) }
            plan.disarm()
            let (operation, path) = steps[failAt]
            let context = "fault \(failAt): \(operation) \(path)"

            // Whatever happened, a fresh reader sees a valid store with the first snapshot intact.
            let reader = try SnapshotStore(opening: dir.path)
            var verifier = StoreVerifier(store: reader)
            #expect(verifier.verify(snapshots: nil, everyBlob: true) == [], "\(context)")
            #expect(try reader.snapshot(first).manifest.agent.fingerprint == "first", "\(context)")
            switch outcome {
            case .failure(let error):
                failures += 1
                #expect(FileManager.default.bytes(dir.file("index.json")) == indexBefore, "\(context)")
                #expect("\(error)".contains("failed: \(operation.rawValue) '"), "\(context): \(error)")
            case .success(let id):
                // Only a failure the protocol may ignore (closing a file it only read, removing a
                // temporary) lets the snapshot land, and then it lands whole.
                #expect([.close, .unlink].contains(operation), "\(context)")
                #expect(try reader.resolve("agent") == id, "\(context)")
            }
        }
        #expect(failures > steps.count / 2)
    }
}
