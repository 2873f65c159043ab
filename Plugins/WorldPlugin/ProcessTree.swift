import Foundation
import PFModel
import PFPluginKit

/// Reads a process and its descendants from `/proc`.
enum ProcessTree {
    static func capture(root: Int32) throws(PluginError) -> [WorldProcess] {
        guard FileManager.default.fileExists(atPath: "/proc/\(root)") else {
            throw .invalid("world.pid=\(root): no such process")
        }
        var parents: [Int32: Int32] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(name), let status = stat(pid) else { continue }
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
            let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline").map { data in
                data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            } ?? []
            return WorldProcess(
                pid: Int(pid), ppid: Int(status.ppid), cmdline: cmdline,
                cwd: try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd"),
                exe: try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe"),
                state: status.state)
        }
    }

    /// State and parent from `/proc/PID/stat` (the command name may contain spaces and parentheses).
    private static func stat(_ pid: Int32) -> (state: String, ppid: Int32)? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 2, let ppid = Int32(fields[1]) else { return nil }
        return (String(fields[0]), ppid)
    }
}
