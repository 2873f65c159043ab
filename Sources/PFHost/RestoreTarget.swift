import PFModel
import PFSystem
#if canImport(Glibc)
import Glibc
#endif

/// The directory a restore builds, and how it takes TARGET's place.
///
/// A restore never writes into TARGET itself: it builds the agent directory in a new sibling,
/// `TARGET.pfhost-partial-XXXXXX` (mode 0700 while it is built, so nobody else sees it half done),
/// and renames it to TARGET at the end. So TARGET is either what it was or the whole restore; a
/// restore that fails removes the sibling, and one that is killed leaves it under a name that says
/// what it is. TARGET must not exist or be an empty directory (which the rename replaces); with
/// `force`, anything else there is swapped out atomically (`RENAME_EXCHANGE`) and then removed.
final class RestoreTarget {
    /// TARGET, absolute.
    let path: String
    /// The sibling being built.
    let partial: String
    /// The sibling, held open.
    let partialFD: Int32
    /// What is at TARGET now.
    private let existing: Existing
    /// The mode TARGET gets: an empty directory's own, else 0777 less the umask.
    private let mode: mode_t
    private let system = SystemCalls()

    private enum Existing { case nothing, emptyDirectory, other }

    /// `path` with every symlink resolved, or nil when it cannot be.
    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Checks TARGET and creates the sibling.
    ///
    /// - Throws: ``RestoreError/target(_:)`` when TARGET exists and is not an empty directory (and
    ///   not `force`), or the sibling cannot be created.
    init(_ target: String, force: Bool, store: String) throws(RestoreError) {
        var path = SystemCalls.absolute(target)
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        guard path != "/", let slash = path.lastIndex(of: "/"),
              path[path.index(after: slash)...] != ".", path[path.index(after: slash)...] != ".." else {
            throw .target("cannot restore into \(path): name a new directory (pfhost restore REF --to DIR)")
        }
        self.path = path
        let parent = slash == path.startIndex ? "/" : String(path[..<slash])
        let system = SystemCalls()
        do { try Self.makeDirectories(parent, system: system) } catch {
            throw .target("cannot create \(parent), where \(path) goes: \(error.reason)")
        }
        // The store being read is never inside what a restore replaces, nor what it fills.
        if let realParent = Self.realPath(parent), let realStore = Self.realPath(store) {
            let real = (realParent == "/" ? "" : realParent) + "/" + path[path.index(after: slash)...]
            let realTarget = Self.realPath(real) ?? real
            if realTarget == realStore || realStore.hasPrefix(realTarget + "/") || realTarget.hasPrefix(realStore + "/") {
                throw .target("\(path) is, holds, or lies inside the store \(store) that the snapshot is read from: restore somewhere else")
            }
        }
        let info: stat?
        do { info = try system.linkStatus(path) } catch {
            throw .target("cannot check \(path): \(error.reason)")
        }
        var mode = mode_t(0o777) & ~Self.umask()
        if let info {
            if info.st_mode & S_IFMT == S_IFDIR, (try? system.listDirectory(path).isEmpty) == true {
                existing = .emptyDirectory
                mode = info.st_mode & 0o7777
            } else if force {
                // --force removes what TARGET holds once the restore is in place, and must not
                // reach into another file system mounted inside it (a bind mount of /home, a tmpfs).
                let mount: String?
                do { mount = try system.firstMountBeneath(path) } catch {
                    throw .target("cannot check \(path) before replacing it: \(error.reason)")
                }
                if let mount {
                    throw .target("\(DisplayText.escaped(mount)) is a mount point inside \(path), which --force would replace and remove: unmount it or restore somewhere else (nothing was changed)")
                }
                existing = .other
            } else {
                let what = info.st_mode & S_IFMT == S_IFDIR ? "is a directory that is not empty" : "exists and is not a directory"
                throw .target("\(path) \(what): restore into a new or empty directory, or pass --force to replace it")
            }
        } else {
            existing = .nothing
        }
        self.mode = mode
        do {
            partial = try system.makeTemporaryDirectory(prefix: path + ".pfhost-partial-")
            partialFD = try system.open(partial, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
        } catch {
            throw .target("cannot create a directory beside \(path) to restore into: \(error)")
        }
    }

    deinit { close(partialFD) }

    /// Creates `TARGET/<kind>/` in the sibling and returns it open.
    func makeLayerDirectory(_ kind: LayerKind) throws(RestoreError) -> Int32 {
        let name = Array(kind.rawValue.utf8)
        do {
            try system.makeDirectory(beneath: partialFD, name, mode: 0o777, display: "\(path)/\(kind)")
            return try system.openBeneath(partialFD, name, flags: O_RDONLY | O_DIRECTORY, display: "\(path)/\(kind)")
        } catch {
            throw .target("cannot create \(path)/\(kind): \(error.reason)")
        }
    }

    /// Writes `TARGET/<name>`.
    func writeFile(_ name: String, _ bytes: [UInt8]) throws(RestoreError) {
        do {
            let fd = try system.createFile(beneath: partialFD, Array(name.utf8), mode: 0o666, display: "\(path)/\(name)")
            defer { close(fd) }
            try withBytes(bytes) { (raw) throws(SystemCallError) in try system.write(fd, raw, at: 0, path: "\(path)/\(name)") }
        } catch {
            throw .target("cannot write \(path)/\(name): \(error.reason)")
        }
    }

    /// Puts the sibling in TARGET's place (the one moment TARGET changes).
    func commit() throws(RestoreError) {
        do {
            guard fchmod(partialFD, mode) == 0 else { throw SystemCallError(operation: "chmod", path: partial, code: errno) }
            switch existing {
            case .nothing:
                guard try system.renameNoReplace(partial, path) else {
                    throw SystemCallError(operation: "rename", path: path, code: EEXIST)
                }
            case .emptyDirectory:
                // Replaces the empty directory, or fails (ENOTEMPTY) if something appeared in it.
                try system.rename(partial, path)
            case .other:
                try system.exchange(partial, path)
                // The sibling's name now holds what TARGET held.
                do { try system.removeTree(partial) } catch {
                    throw RemovalFailure(error: error)
                }
            }
        } catch let failure as RemovalFailure {
            throw .target("restored \(path), but the directory it replaced, now \(partial), could not be removed: \(failure.error)")
        } catch let error as SystemCallError {
            throw .target("cannot put the restore in place at \(path): \(error.reason)\(error.code == EEXIST || error.code == ENOTEMPTY ? " (something was created there meanwhile)" : "")")
        } catch {
            throw .target("cannot put the restore in place at \(path): \(error)")
        }
    }

    /// Removes the sibling and everything in it (a restore that failed).
    func discard() {
        try? system.removeTree(partial)
    }

    private struct RemovalFailure: Error {
        let error: SystemCallError
    }

    /// Creates `directory` and those above it that are missing (mode 0777 less the umask).
    private static func makeDirectories(_ directory: String, system: SystemCalls) throws(SystemCallError) {
        if try system.status(directory) != nil { return }
        if let slash = directory.lastIndex(of: "/"), slash != directory.startIndex {
            try makeDirectories(String(directory[..<slash]), system: system)
        }
        try system.mkdir(directory, mode: 0o777)
    }

    /// The process's umask, from `/proc/self/status` (calling umask(2) to read it would change it
    /// for a moment under other threads); 022 when it cannot be read.
    private static func umask() -> mode_t {
        guard let bytes = try? SystemCalls().readFile("/proc/self/status", limit: 1 << 16) else { return 0o022 }
        let text = String(decoding: bytes, as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix("Umask:") {
            if let value = mode_t(line.dropFirst("Umask:".count).trimmingPrefix(while: { $0 == " " || $0 == "\t" }), radix: 8) {
                return value
            }
        }
        return 0o022
    }
}
