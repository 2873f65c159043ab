import PFModel
import PFPluginKit
import PFSystem
#if canImport(Glibc)
import Glibc
#endif

/// Reads a process and its descendants from `/proc`, their command lines redacted (see
/// ``SecretRedactor/redact(arguments:)``).
enum ProcessTree {
    static func capture(root: Int32) throws(PluginError) -> [WorldProcess] {
        guard (try? SystemCalls().linkStatus("/proc/\(root)")) != nil else {
            throw .invalid("world.pid=\(root): no such process")
        }
        var parents: [Int32: Int32] = [:]
        for pid in processIDs() {
            guard let status = stat(pid) else { continue }
            parents[pid] = status.ppid
        }
        var tree: [Int32] = [root]
        var frontier = [root]
        while let next = frontier.popLast() {
            let children = parents.filter { $0.value == next }.map(\.key).sorted()
            tree += children
            frontier += children
        }
        return tree.sorted().compactMap { pid in
            // A process that exits while we read it is simply not in the snapshot.
            guard let status = stat(pid) else { return nil }
            let arguments = (try? ReadableFile.contents(of: "/proc/\(pid)/cmdline")).map { bytes in
                bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            } ?? []
            // Command lines carry passwords and tokens (`--password=…`, `curl -H 'Authorization: …'`).
            let cmdline = SecretRedactor.redact(arguments: arguments)
            return WorldProcess(
                pid: Int(pid), ppid: Int(status.ppid), cmdline: cmdline,
                cwd: link("/proc/\(pid)/cwd"), exe: link("/proc/\(pid)/exe"), state: status.state)
        }
    }

    /// Every process id listed in `/proc`.
    private static func processIDs() -> [Int32] {
        ((try? DirectoryListing.names(in: "/proc")) ?? []).compactMap { Int32($0) }
    }

    /// The target of the symlink at `path`, or nil.
    private static func link(_ path: String) -> String? {
        (try? SystemCalls().readLink(path)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// State and parent from `/proc/PID/stat` (the command name may contain spaces and parentheses).
    private static func stat(_ pid: Int32) -> (state: String, ppid: Int32)? {
        guard let bytes = try? ReadableFile.contents(of: "/proc/\(pid)/stat") else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 2, let ppid = Int32(fields[1]) else { return nil }
        return (String(fields[0]), ppid)
    }
}
