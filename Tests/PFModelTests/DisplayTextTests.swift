import Testing
import PFModel

/// `DisplayText`: names and messages from outside made safe to print, bytes that are not UTF-8 included.
@Suite("DisplayText")
struct DisplayTextTests {
    @Test("names as bytes: valid UTF-8 kept, control characters escaped, every other byte as \\x{..}", arguments: [
        (Array("plain/name.txt".utf8), "plain/name.txt"),
        (Array("bad".utf8) + [0xFF] + Array("name".utf8), "bad\\x{ff}name"),
        (Array("caf\u{E9}".utf8), "caf\u{E9}"),
        (Array("bad\u{FFFD}name".utf8), "bad\u{FFFD}name"),
        ([0xE2, 0x82], "\\x{e2}\\x{82}"),
        ([0xE2, 0x82, 0x41], "\\x{e2}\\x{82}A"),
        ([0xC0, 0xAF], "\\x{c0}\\x{af}"),
        (Array("a\nb\u{1B}[2J".utf8), "a\\nb\\e[2J"),
        ([0x80] + Array("\t".utf8) + [0xFE], "\\x{80}\\t\\x{fe}"),
        ([], ""),
    ] as [([UInt8], String)])
    func bytes(name: [UInt8], shown: String) {
        #expect(DisplayText.escaped(bytes: name) == shown)
    }
}
