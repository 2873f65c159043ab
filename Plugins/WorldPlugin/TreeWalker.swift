import Dispatch
import PFPluginKit
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
    let root: String
    let excludes: [String]
    let host: PluginHost
    /// Listing threads; the default is one per core, at most four.
    var threads = min(4, max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))

    func walk() throws(PluginError) -> WalkedTree {
        var info = stat()
        guard lstat(root, &info) == 0 else { throw .io("\(root): \(String(cString: strerror(errno)))") }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw .invalid("\(root): world.root is not a directory") }
        let fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .io("\(root): cannot be opened: \(String(cString: strerror(errno)))") }
        let walk = Walk(root: root, patterns: excludes.map { Array($0.utf8CString) }, host: host, threads: threads)
        walk.push(Directory(fd: fd, relative: "", id: walk.newListing()))
        DispatchQueue.concurrentPerform(iterations: threads) { _ in walk.work() }
        return try walk.result()
    }
}

/// A directory open as `fd`, waiting to be listed into listing `id`.
private struct Directory: Sendable {
    let fd: Int32
    let relative: String
    let id: Int
}

/// The state the listing threads share.
private final class Walk: Sendable {
    let root: String
    let patterns: [[CChar]]
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
    /// Signalled once per pushed directory, and `threads` times when the walk stops.
    private let ready = DispatchSemaphore(value: 0)

    init(root: String, patterns: [[CChar]], host: PluginHost, threads: Int) {
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
        if state.withLock({ $0.stopped }) {
            close(directory.fd)
            return
        }
        let relative = directory.relative
        guard let dir = fdopendir(directory.fd) else {
            close(directory.fd)
            throw .io("\(root)/\(relative): cannot be listed: \(String(cString: strerror(errno)))")
        }
        defer { closedir(dir) }
        try host.checkCancelled()
        var names: [[CChar]] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                let start = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
                return Array(UnsafeBufferPointer(start: start, count: strlen(start) + 1))
            }
            if name != [46, 0] && name != [46, 46, 0] { names.append(name) }
        }
        names.sort { $0.lexicographicallyPrecedes($1) { UInt8(bitPattern: $0) < UInt8(bitPattern: $1) } }
        var listing = WalkedTree.Listing()
        for name in names {
            let text = String(decoding: name.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let child = relative.isEmpty ? text : relative + "/" + text
            if !patterns.isEmpty {
                let skip = child.withCString { path in
                    patterns.contains { fnmatch($0, path, 0) == 0 || fnmatch($0, name, 0) == 0 }
                }
                if skip { continue }
            }
            var info = stat()
            guard fstatat(dirfd(dir), name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
                // Deleted while we walked: the tree is what was there when we looked.
                if errno == ENOENT { continue }
                throw .io("\(root)/\(child): \(String(cString: strerror(errno)))")
            }
            var target: String?
            if info.st_mode & S_IFMT == S_IFLNK {
                var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let length = readlinkat(dirfd(dir), name, &buffer, buffer.count - 1)
                guard length >= 0 else { throw .io("\(root)/\(child): readlink failed: \(String(cString: strerror(errno)))") }
                target = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            let entry = TreeEntry(path: child, status: info, target: target)
            listing.entries.append(entry)
            guard entry.kind == .directory else {
                listing.children.append(nil)
                continue
            }
            let fd = openat(dirfd(dir), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { throw .io("\(root)/\(child): cannot be opened: \(String(cString: strerror(errno)))") }
            let subdirectory = Directory(fd: fd, relative: child, id: newListing())
            listing.children.append(subdirectory.id)
            if !push(subdirectory) { try list(subdirectory) }
        }
        state.withLock { $0.listings[directory.id] = listing }
    }
}
