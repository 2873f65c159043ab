import PFModel
import Synchronization

/// Progress on stderr: per layer (or any other label, such as `gc`) the latest count a plugin
/// reported in its own units and the bytes the host moved, with a total.
///
/// On a terminal it is one line redrawn in place at most 10 times a second and erased by
/// ``finish()``. Into anything else (`--progress` into a pipe or a file) it prints whole lines
/// `pfhost: progress: …` at most once a second, and ``finish()`` prints the last state, so a log
/// keeps where the work stood. Any command can use it; see ``ProgressOptions``.
///
/// ```swift
/// let progress = progressOptions.line()          // nil with --quiet, or off a terminal by default
/// progress?.update("gc", done: removedBytes, total: unreachableBytes, unit: .bytes)
/// progress?.finish()
/// ```
final class ProgressLine: Sendable {
    /// What a label's `done` and `total` count.
    enum Unit: Sendable {
        /// The reporter's own units (a plugin's files, pages, entries), shown as a percentage.
        case items
        /// Bytes, shown as `1.5 MiB/4.0 MiB`.
        case bytes
    }

    private struct Entry {
        var done: UInt64 = 0
        var total: UInt64 = 0
        var unit = Unit.items
        var reported = false
        /// Bytes the host moved for this label (stored, read or written).
        var bytes: UInt64 = 0
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var lastDraw = ContinuousClock.now - .seconds(10)
        var drawn = false
    }

    private let state = Mutex(State())
    /// Redraw in place (a terminal) or print whole lines.
    private let inPlace: Bool
    private let interval: Duration

    /// A progress display; `inPlace` when stderr is a terminal.
    init(inPlace: Bool) {
        self.inPlace = inPlace
        interval = inPlace ? .milliseconds(100) : .seconds(1)
    }

    /// The callback for plugins' reports (their own units), as ``Snapshotter`` and ``Restorer`` take it.
    var report: @Sendable (LayerKind, UInt64, UInt64) -> Void {
        { [self] kind, done, total in update(kind.rawValue, done: done, total: total, unit: .items) }
    }

    /// The callback for bytes the host moved for a layer.
    var bytes: @Sendable (LayerKind, UInt64) -> Void {
        { [self] kind, count in
            change(kind.rawValue) { entry in
                let (sum, overflow) = entry.bytes.addingReportingOverflow(count)
                entry.bytes = overflow ? .max : sum
            }
        }
    }

    /// Sets `label`'s progress: `done` of `total` (`total` 0: unknown). A label's first report and
    /// its completion (`done` reaching a known `total`) are drawn at once; other updates at most at
    /// the display's rate.
    func update(_ label: String, done: UInt64, total: UInt64, unit: Unit) {
        change(label, drawNow: total > 0 && done >= total) { entry in
            (entry.done, entry.total, entry.unit, entry.reported) = (done, total, unit, true)
        }
    }

    private func change(_ label: String, drawNow: Bool = false, _ body: (inout Entry) -> Void) {
        state.withLock { state in
            let first = !(state.entries[label]?.reported ?? false)
            body(&state.entries[label, default: Entry()])
            let now = ContinuousClock.now
            guard drawNow || (first && state.entries[label]!.reported) || now - state.lastDraw >= interval else { return }
            state.lastDraw = now
            draw(state.entries)
            state.drawn = true
        }
    }

    /// Ends the display: erases the line on a terminal, prints the final state otherwise.
    func finish() {
        state.withLock { state in
            if inPlace {
                if state.drawn { write("\r\u{1B}[K") }
            } else if !state.entries.isEmpty {
                draw(state.entries)
            }
        }
    }

    private func draw(_ entries: [String: Entry]) {
        let text = entries.sorted { Self.order($0.key) < Self.order($1.key) }.map { Self.describe($0.key, $0.value) }
        var total: UInt64 = 0
        for entry in entries.values {
            let (sum, overflow) = total.addingReportingOverflow(entry.bytes)
            total = overflow ? .max : sum
        }
        let line = DisplayText.escaped(text.joined(separator: "  ")) + (total > 0 ? "  (\(Formatting.bytes(Int64(clamping: total))) in all)" : "")
        write(inPlace ? "\r\u{1B}[K" + line : "pfhost: progress: " + line + "\n")
    }

    private func write(_ text: String) {
        var standardError = StandardError()
        print(text, terminator: "", to: &standardError)
    }

    /// Layers in manifest order, then other labels by name.
    private static func order(_ label: String) -> (Int, String) {
        (LayerKind.allCases.firstIndex { $0.rawValue == label } ?? LayerKind.allCases.count, label)
    }

    private static func describe(_ label: String, _ entry: Entry) -> String {
        var parts = [label]
        if entry.reported {
            switch (entry.unit, entry.total) {
            case (.items, 0): parts.append("\(entry.done)")
            case (.items, let total): parts.append("\(percent(entry.done, of: total))%")
            case (.bytes, 0): parts.append(Formatting.bytes(Int64(clamping: entry.done)))
            case (.bytes, let total):
                parts.append("\(Formatting.bytes(Int64(clamping: entry.done)))/\(Formatting.bytes(Int64(clamping: total))) \(percent(entry.done, of: total))%")
            }
        }
        if entry.bytes > 0 { parts.append(Formatting.bytes(Int64(clamping: entry.bytes))) }
        return parts.joined(separator: " ")
    }

    /// `done` as a whole percentage of `total` (which is not 0), at most 100. Both come from a
    /// plugin and may be anything up to 2^64 - 1: the product is computed in 128 bits, and a
    /// plugin that reports more done than its total shows 100%.
    static func percent(_ done: UInt64, of total: UInt64) -> UInt64 {
        total.dividingFullWidth(min(done, total).multipliedFullWidth(by: 100)).quotient
    }
}
