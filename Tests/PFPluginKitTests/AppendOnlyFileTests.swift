import Foundation
import PFModel
import Testing
@testable import PFPluginKit

/// How a growing file relates to its parent's blob, and when its stat data may stand in for reading it.
@Suite("AppendOnlyFile and FileStatRecord")
struct AppendOnlyFileTests {
    private let directory: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("append-only-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    private func file(_ text: String) throws -> ReadableFile {
        let path = directory + "/file"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return try ReadableFile(path: path)
    }

    @Test("hashing: the same bytes are unchanged, more bytes after them appended, anything else different")
    func byHashing() throws {
        let parent = Digest.of(Array("a\nb\n".utf8))
        #expect(try AppendOnlyFile.relation(of: file("a\nb\n"), toParent: parent, size: 4) == .unchanged)
        #expect(try AppendOnlyFile.relation(of: file("a\nb\nc\n"), toParent: parent, size: 4) == .appended)
        #expect(try AppendOnlyFile.relation(of: file("a\nB\nc\n"), toParent: parent, size: 4) == .different)
        #expect(try AppendOnlyFile.relation(of: file("a\n"), toParent: parent, size: 4) == .different)
        #expect(try AppendOnlyFile.relation(of: file("a\nb\n"), toParent: nil, size: nil) == .different)
    }

    @Test("a parent whose last line was cut short is not a prefix to continue from: the appended bytes finish its line")
    func parentWithoutFinalNewline() throws {
        let parent = Digest.of(Array("a\nb".utf8))
        #expect(try AppendOnlyFile.relation(of: file("a\nb"), toParent: parent, size: 3) == .unchanged)
        #expect(try AppendOnlyFile.relation(of: file("a\nb\n"), toParent: parent, size: 3) == .different)
        #expect(try AppendOnlyFile.relation(of: file("a\nb\nc\n"), toParent: parent, size: 3) == .different)
        #expect(try AppendOnlyFile.relation(of: file("a\n"), toParent: Digest.of([]), size: 0) == .appended)
    }

    @Test("the relation reads with pread: a reader of the same file still starts at its beginning")
    func leavesTheOffset() throws {
        let opened = try file("a\nb\nc\n")
        #expect(try AppendOnlyFile.relation(of: opened, toParent: Digest.of(Array("a\n".utf8)), size: 2) == .appended)
        var reader = LineReader(file: opened)
        #expect(try reader.next()?.bytes == Array("a".utf8))
    }

    @Test("a record is settled only when the file's timestamps are older than the racy window")
    func settled() throws {
        let opened = try file("x\n")
        let changed = max(opened.status.st_mtim.tv_sec, opened.status.st_ctim.tv_sec)
        let justAfter = Int64(changed + 1) * 1_000_000_000
        #expect(FileStatRecord.settled(opened.status, now: justAfter) == nil)
        #expect(FileStatRecord.settled(opened.status, now: justAfter, racyWindow: 0) == FileStatRecord.of(opened.status))
        #expect(FileStatRecord.settled(opened.status, now: justAfter + 2_000_000_000) == FileStatRecord.of(opened.status))
        // A file that changed after it was opened is not what the record would describe.
        try Data("xy\n".utf8).write(to: URL(fileURLWithPath: opened.path))
        #expect(FileStatRecord.settled(opened, captureStart: justAfter + 10_000_000_000) == nil)
        #expect(FileStatRecord.of(path: directory + "/missing") == nil)
        #expect(FileStatRecord.of(path: directory) == nil)
    }
}
