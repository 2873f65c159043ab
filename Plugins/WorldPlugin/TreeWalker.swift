import Dispatch
import PFPluginKit
import PFSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Lists every path under a root, depth first in byte order of names, without following
/// symlinks and skipping what matches an exclude pattern.
///
/// A pattern (fnmatch syntax) is matched against both the path relative to the root and the
/// entry's own name, so `*.tmp` and `build/cache` both work; an excluded directory is not entered.
/// Directories are read through descriptors (`openat`, `fstatat`), so no full path is built for
/// a system call, and no path is resolved twice (a directory swapped for a symlink mid-walk is
/// not followed).
///
/// Directories are listed on several threads (the `stat` of every entry is most of a warm
/// snapshot of a big tree): a thread takes a directory from a shared stack, lists it, and pushes
/// its subdirectories, or lists one at once itself while the stack is full, so open descriptors
/// stay bounded. The listings are joined in order at the end, so the result does not depend on the
/// threads.
struct TreeWalker {
    /// Directories deeper than this are recorded but not entered: every path is written out in full
    /// in the index, so a chain of N nested directories costs N² bytes, and an agent could make a
    /// snapshot take minutes and gigabytes with a few thousand `mkdir`s.
    static let maximumDepth = 512
    let root: RootDirectory
    let excludes: [String]
    let host: PluginHost
    /// Listing threads; the default is one per core, at most four.
    var threads = min(4, max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))

    func walk() throws(PluginError) -> WalkedTree {
        // The root's own descriptor is the capture's; the walk lists a duplicate it may close.
        let fd = dup(root.fd)
        guard fd >= 0 else { throw .io("\(root.path): cannot be opened: \(String(cString: strerror(errno)))") }
        let walk = Walk(root: root.path, patterns: ExcludePatterns(excludes), host: host, threads: threads)
        walk.push(Directory(fd: fd, relative: [], id: walk.newListing()))
        DispatchQueue.concurrentPerform(iterations: threads) { _ in walk.work() }
        return try walk.result()
    }
}

/// A directory open as `fd`, waiting to be listed into listing `id`.
private struct Directory: Sendable {
    let fd: Int32
    let relative: [UInt8]
    let id: Int
    /// Directory levels below the root (the root is 0).
    var depth = 0
}

/// The state the listing threads share.
private final class Walk: Sendable {
    let root: String
    let patterns: ExcludePatterns
    let host: PluginHost
    let threads: Int
    /// Above this many waiting directories, a thread lists a subdirectory itself.
    static let stackLimit = 64

    private struct State {
        var stack: [Directory] = []
        /// Directories pushed and not yet listed (on the stack or being listed).
        var outstanding = 0
        var listings: [WalkedTree.Listing?] = []
        var failure: PluginError?
        var stopped = false
    }
    private let state = Mutex(State())
    private let system = SystemCalls()
    /// Signalled once per pushed directory, and `threads` times when the walk stops.
    private let ready = DispatchSemaphore(value: 0)

    init(root: String, patterns: ExcludePatterns, host: PluginHost, threads: Int) {
        self.root = root
        self.patterns = patterns
        self.host = host
        self.threads = threads
    }

    func newListing() -> Int {
        state.withLock { state in
            state.listings.append(nil)
            return state.listings.count - 1
        }
    }

    /// Queues `directory` for a thread to list; false (and nothing queued) when the stack is full
    /// or the walk has stopped.
    @discardableResult
    func push(_ directory: Directory) -> Bool {
        let pushed = state.withLock { state in
            guard !state.stopped, state.stack.count < Self.stackLimit || state.outstanding == 0 else { return false }
            state.stack.append(directory)
            state.outstanding += 1
            return true
        }
        if pushed { ready.signal() }
        return pushed
    }

    /// One thread's loop: list directories until none is left or one fails.
    func work() {
        while true {
            ready.wait()
            guard let directory = state.withLock({ $0.stopped ? nil : $0.stack.popLast() }) else { return }
            do throws(PluginError) {
                try list(directory)
            } catch {
                stop(error)
                return
            }
            let finished = state.withLock { state in
                state.outstanding -= 1
                return state.outstanding == 0
            }
            if finished { stop(nil) }
        }
    }

    /// Ends the walk (with `failure`, if any): wakes every thread, closes what is still queued.
    private func stop(_ failure: PluginError?) {
        let queued = state.withLock { state in
            if state.failure == nil { state.failure = failure }
            state.stopped = true
            defer { state.stack = [] }
            return state.stack
        }
        for directory in queued { close(directory.fd) }
        for _ in 0..<threads { ready.signal() }
    }

    /// The listings, or the first failure.
    func result() throws(PluginError) -> WalkedTree {
        let (listings, failure) = state.withLock { state in
            defer { state.listings = [] }
            return (state.listings, state.failure)
        }
        if let failure { throw failure }
        // Every listing is there: the walk ended with no directory left and no failure.
        return WalkedTree(listings: listings.map { $0! })
    }

    /// Lists `directory` (and closes it), pushing its subdirectories or listing them here.
    private func list(_ directory: Directory) throws(PluginError) {
        defer { close(directory.fd) }
        if state.withLock({ $0.stopped }) { return }
        let relative = directory.relative
        let fd = directory.fd
        func display(_ path: [UInt8]) -> String { root + "/" + String(decoding: path, as: UTF8.self) }
        try host.checkCancelled()
        var names: DirectoryNames
        do { names = try system.nameBuffer(inDirectory: fd, path: display(relative)) } catch {
            throw .io("\(error.path): cannot be listed: \(error.reason)")
        }
        // Byte order, as lexicographicallyPrecedes gives it.
        names.sort()
        var listing = WalkedTree.Listing()
        listing.entries.reserveCapacity(names.count)
        listing.children.reserveCapacity(names.count)
        // The path of the entry being looked at: `relative/name`, NUL-terminated for fnmatch.
        var child = relative
        if !relative.isEmpty { child.append(UInt8(ascii: "/")) }
        let prefix = child.count
        for start in names.starts {
            let length = names.length(at: start)
            child.removeSubrange(prefix...)
            names.bytes.withUnsafeBufferPointer { child.append(contentsOf: $0[start..<(start + length)]) }
            if !patterns.isEmpty {
                child.append(0)
                let skip = child.withUnsafeBufferPointer { path in
                    patterns.matches(path: UnsafeRawPointer(path.baseAddress!).assumingMemoryBound(to: CChar.self),
                                     length: path.count - 1, leafLength: length)
                }
                child.removeLast()
                if skip { continue }
            }
            let status: stat?
            var target: [UInt8]?
            do throws(SystemCallError) {
                status = try names.bytes.withUnsafeBufferPointer { (buffer) throws(SystemCallError) -> stat? in
                    let cName = UnsafeRawPointer(buffer.baseAddress! + start).assumingMemoryBound(to: CChar.self)
                    // Deleted while we walked: the tree is what was there when we looked.
                    guard let info = try system.linkStatus(at: fd, cName, display: display(child)) else { return nil }
                    if info.st_mode & S_IFMT == S_IFLNK {
                        do throws(SystemCallError) { target = try system.readLink(at: fd, cName, display: display(child)) } catch where error.code == ENOENT || error.code == EINVAL {
                            return nil // replaced since the stat: gone as a symlink
                        }
                    }
                    return info
                }
            } catch {
                throw .io("\(error.path): \(error.operation) failed: \(error.reason)")
            }
            guard let status else { continue }
            let entry = TreeEntry(path: child, status: status, target: target)
            guard entry.kind == .directory else {
                listing.entries.append(entry)
                listing.children.append(nil)
                continue
            }
            let subdirectoryFD: Int32
            do throws(SystemCallError) {
                subdirectoryFD = try names.bytes.withUnsafeBufferPointer { (buffer) throws(SystemCallError) in
                    let cName = UnsafeRawPointer(buffer.baseAddress! + start).assumingMemoryBound(to: CChar.self)
                    return try system.open(at: fd, cName, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, display: display(child))
                }
            } catch where RootDirectory.gone.contains(error.code) {
                continue // removed, or replaced by a symlink, since the stat: not followed, not listed
            } catch {
                throw .io("\(error.path): cannot be opened: \(error.reason)")
            }
            listing.entries.append(entry)
            guard directory.depth + 1 < TreeWalker.maximumDepth else {
                close(subdirectoryFD)
                listing.children.append(nil)
                host.log(.warning, "\(display(child)): its contents are left out: deeper than \(TreeWalker.maximumDepth) directory levels")
                continue
            }
            let subdirectory = Directory(fd: subdirectoryFD, relative: child, id: newListing(), depth: directory.depth + 1)
            listing.children.append(subdirectory.id)
            if !push(subdirectory) { try list(subdirectory) }
        }
        state.withLock { $0.listings[directory.id] = listing }
    }
}
