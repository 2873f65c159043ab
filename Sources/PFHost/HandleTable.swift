import Logging
import Synchronization

/// Hands out checked handles for host objects a plugin holds opaque pointers to (`pf_ctx *`,
/// `pf_blob_writer *`), so that a plugin calling with a stale or made-up pointer gets an error
/// instead of making the host dereference freed memory.
///
/// A handle is not an address. Its 64 bits pack a tag naming the table, a slot index and the
/// slot's generation, and its lowest bit is set:
///
/// ```
/// 63      48 47          28 27                 1 0
/// [  tag   ] [ slot index ] [    generation    ] 1
/// ```
///
/// so no handle is a valid (aligned, canonical) pointer, a pointer of the other table's kind is
/// told apart by its tag, and a handle whose object was retired no longer matches its slot, whose
/// generation moved on. Looking a handle up takes the table's lock and returns a strong
/// reference, so the object lives at least as long as the call that found it.
///
/// The table remembers whose the last ``recentLimit`` retired handles were, so a late call can be
/// reported naming the plugin.
final class HandleTable<Object: AnyObject & Sendable>: Sendable {
    /// What a handle leads to.
    enum Lookup {
        /// A live object.
        case live(Object)
        /// An object retired after its use ended. `owner` names who held it; `firstTime` is true
        /// for the first late call through this handle (later ones are not worth a warning each).
        case retired(owner: String, logger: Logger, firstTime: Bool)
        /// Not a handle this table gave out, or one whose slot has been reused since.
        case unknown
    }

    private struct Retired {
        var owner: String
        var logger: Logger
        var warned = false
    }

    private struct Slot {
        var generation: UInt64 = 0
        var object: Object?
    }

    private struct Slots {
        var slots: [Slot] = []
        var free: [Int] = []
        /// Recently retired handles, by their bits, and the order they were retired in.
        var recent: [UInt64: Retired] = [:]
        var recentOrder: [UInt64] = []
        var recentNext = 0
    }

    /// How many retired handles the table can still name.
    static var recentLimit: Int { 4096 }

    private static var indexBits: UInt64 { 20 }
    private static var generationBits: UInt64 { 27 }
    private static var generationMask: UInt64 { (1 << generationBits) - 1 }
    private static var indexMask: UInt64 { (1 << indexBits) - 1 }

    private let tag: UInt64
    private let state = Mutex(Slots())

    /// A table whose handles carry `tag` (16 bits) in their top bits.
    init(tag: UInt16) {
        self.tag = UInt64(tag)
    }

    /// A new handle for `object`, valid until ``retire(_:owner:logger:)``.
    func register(_ object: Object) -> OpaquePointer {
        let (index, generation) = state.withLock { state -> (Int, UInt64) in
            let index: Int
            if let reused = state.free.popLast() {
                index = reused
            } else {
                precondition(UInt64(state.slots.count) < Self.indexMask, "more than \(Self.indexMask) live plugin handles")
                index = state.slots.count
                state.slots.append(Slot())
            }
            state.slots[index].object = object
            return (index, state.slots[index].generation)
        }
        let bits = tag << 48 | UInt64(index) << 28 | generation << 1 | 1
        return OpaquePointer(bitPattern: UInt(bits))!
    }

    /// The object behind `handle`, or why there is none.
    func lookup(_ handle: OpaquePointer?) -> Lookup {
        guard let (index, generation) = decode(handle) else { return .unknown }
        let bits = UInt64(UInt(bitPattern: handle!))
        return state.withLock { state -> Lookup in
            if index < state.slots.count, state.slots[index].generation == generation, let object = state.slots[index].object {
                return .live(object)
            }
            guard var retired = state.recent[bits] else { return .unknown }
            let firstTime = !retired.warned
            retired.warned = true
            state.recent[bits] = retired
            return .retired(owner: retired.owner, logger: retired.logger, firstTime: firstTime)
        }
    }

    /// Ends `handle`: later lookups find no object, and report `owner` (with `logger`) for a late
    /// call. Returns the object it led to, or nil when it was not live (retired twice, unknown).
    @discardableResult
    func retire(_ handle: OpaquePointer, owner: String, logger: Logger) -> Object? {
        guard let (index, generation) = decode(handle) else { return nil }
        return state.withLock { state -> Object? in
            guard index < state.slots.count, state.slots[index].generation == generation,
                  let object = state.slots[index].object else { return nil }
            state.slots[index].object = nil
            state.slots[index].generation = (generation + 1) & Self.generationMask
            state.free.append(index)
            let bits = UInt64(UInt(bitPattern: handle))
            if state.recentOrder.count < Self.recentLimit {
                state.recentOrder.append(bits)
            } else {
                state.recent.removeValue(forKey: state.recentOrder[state.recentNext])
                state.recentOrder[state.recentNext] = bits
                state.recentNext = (state.recentNext + 1) % Self.recentLimit
            }
            state.recent[bits] = Retired(owner: owner, logger: logger)
            return object
        }
    }

    private func decode(_ handle: OpaquePointer?) -> (index: Int, generation: UInt64)? {
        guard let handle else { return nil }
        let bits = UInt64(UInt(bitPattern: handle))
        guard bits >> 48 == tag, bits & 1 == 1 else { return nil }
        return (Int(bits >> 28 & Self.indexMask), bits >> 1 & Self.generationMask)
    }
}
