import PFModel

/// Splits a journal's bytes, fed in chunks of any size, into records and damaged lines, never
/// holding more than one line of at most ``lineLimit`` bytes: a longer line is counted, skipped
/// and reported, not gathered.
struct JournalScanner {
    /// The longest line a journal may hold, without its newline. pfhost's own lines are about
    /// 200 bytes.
    static let lineLimit = 64 << 10

    let file: String
    private(set) var records: [JournalRecord] = []
    private(set) var damaged: [JournalDamage] = []
    private var line: [UInt8] = []
    private var tooLong = false
    private var number = 0

    init(file: String) {
        self.file = file
        line.reserveCapacity(512)
    }

    /// Takes the next bytes of the journal.
    mutating func feed(_ chunk: ArraySlice<UInt8>) {
        var start = chunk.startIndex
        while let end = chunk[start...].firstIndex(of: 0x0a) {
            gather(chunk[start..<end])
            finishLine()
            start = end + 1
        }
        gather(chunk[start...])
    }

    /// A last line without its newline is an append a crash cut short: it is left out.
    mutating func finish() -> (records: [JournalRecord], damaged: [JournalDamage]) {
        (records, damaged)
    }

    private mutating func gather(_ piece: ArraySlice<UInt8>) {
        guard !tooLong, !piece.isEmpty else { return }
        if line.count + piece.count > Self.lineLimit {
            tooLong = true
            line.removeAll(keepingCapacity: true)
        } else {
            line += piece
        }
    }

    private mutating func finishLine() {
        number += 1
        if tooLong {
            damaged.append(JournalDamage(file: file, line: number, reason: "longer than \(Self.lineLimit) bytes (a journal line is at most 64 KiB)"))
        } else {
            switch JournalRecord.parse(line: line, file: file, number: number) {
            case .success(let record): records.append(record)
            case .failure(let damage): damaged.append(damage)
            }
        }
        line.removeAll(keepingCapacity: true)
        tooLong = false
    }
}
