import Foundation
import Testing
import PFModel
@testable import PFHost

/// The ELF reader on real objects built by cc, and on damaged copies of one: every damage is a
/// clear problem, never a crash or a read outside the file.
@Suite("ELF dynamic section")
struct ELFDynamicSectionTests {
    /// Reads `bytes` as a file.
    static func parse(_ bytes: [UInt8]) throws(ELFDynamicSection.Problem) -> ELFDynamicSection {
        try ELFDynamicSection(size: Int64(bytes.count)) { (offset, count) throws(ELFDynamicSection.Problem) -> [UInt8] in
            // The reader only asks within the size it was given.
            #expect(offset >= 0 && count >= 0 && Int(offset) + count <= bytes.count)
            return Array(bytes[Int(offset)..<(Int(offset) + count)])
        }
    }

    static func parse(file: String) throws -> ELFDynamicSection {
        let fd = open(file, O_RDONLY)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno)!) }
        defer { close(fd) }
        return try ELFDynamicSection(descriptor: fd, path: file)
    }

    /// A library with a soname, RUNPATH, and a needed library, and the standard trace test plugin.
    static let built: (library: String, bytes: [UInt8]) = {
        let dir = TemporaryDirectory()
        _ = Unmanaged.passRetained(dir)
        let source = dir.file("x.c")
        try! Data("int elf_test_function(void) { return 1; }\nint elf_test_variable = 2;\n".utf8).write(to: URL(fileURLWithPath: source))
        let library = dir.file("libx.so")
        let result = try! run("/usr/bin/cc", ["-shared", "-fPIC", "-o", library, source, "-Wl,-soname,libx.so.1",
                                              "-Wl,-rpath,/opt/x/lib:$ORIGIN/../lib", "-Wl,--no-as-needed", "-lm"])
        precondition(result.status == 0, "\(result)")
        return (library, Array(try! Data(contentsOf: URL(fileURLWithPath: library))))
    }()

    @Test("a library: NEEDED in order, RUNPATH and SONAME as written, defined dynamic symbols")
    func library() throws {
        let dynamic = try Self.parse(file: Self.built.library)
        #expect(dynamic.needed == ["libm.so.6", "libc.so.6"])
        #expect(dynamic.runpath == "/opt/x/lib:$ORIGIN/../lib" && dynamic.rpath == nil)
        #expect(dynamic.soname == "libx.so.1")
        #expect(dynamic.filters.isEmpty)
        let fd = open(Self.built.library, O_RDONLY)
        defer { close(fd) }
        let symbols = try dynamic.symbols(descriptor: fd, path: Self.built.library)
        #expect(symbols.contains(ELFDynamicSection.Symbol(name: "elf_test_function", isDefined: true, type: 2, binding: 1)))
        #expect(symbols.contains(ELFDynamicSection.Symbol(name: "elf_test_variable", isDefined: true, type: 1, binding: 1)))
    }

    @Test("a plugin exports pf_plugin_entry_v1 and nothing else of its own")
    func pluginSymbols() throws {
        let file = PluginBuilder.standard[.trace]!
        let dynamic = try Self.parse(file: file)
        let fd = open(file, O_RDONLY)
        defer { close(fd) }
        let defined = try dynamic.symbols(descriptor: fd, path: file).filter(\.isDefined).map(\.name)
        #expect(defined == ["pf_plugin_entry_v1"])
    }

    // MARK: Damaged files

    /// A small deterministic generator (SplitMix64), so a failure can be replayed.
    struct Generator {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func u16(_ b: [UInt8], _ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 }
    static func u64(_ b: [UInt8], _ i: Int) -> UInt64 { (0..<8).reduce(UInt64(0)) { $0 | UInt64(b[i + $1]) << (8 * $1) } }
    static func put64(_ b: inout [UInt8], _ i: Int, _ value: UInt64) {
        for k in 0..<8 { b[i + k] = UInt8(truncatingIfNeeded: value >> (8 * k)) }
    }

    /// The offset of the PT_DYNAMIC program header, and of the dynamic section's entries.
    static func dynamicHeader(_ b: [UInt8]) -> (header: Int, entries: Int) {
        let phoff = Int(u64(b, 32)), size = u16(b, 54), count = u16(b, 56)
        for number in 0..<count where u16(b, phoff + number * size) == 2 {
            return (phoff + number * size, Int(u64(b, phoff + number * size + 8)))
        }
        fatalError("no PT_DYNAMIC")
    }

    /// The offset of the first dynamic entry with `tag`.
    static func entry(_ b: [UInt8], tag: UInt64) -> Int {
        var at = dynamicHeader(b).entries
        while u64(b, at) != 0 {
            if u64(b, at) == tag { return at }
            at += 16
        }
        fatalError("no tag \(tag)")
    }

    @Test("each damage is a clear problem", arguments: [
        ("not ELF", { @Sendable (b: inout [UInt8]) in b = Array("not a library\n".utf8) }, "not an ELF file (it does not start with \\x7fELF)"),
        ("empty", { @Sendable (b: inout [UInt8]) in b = [] }, "not an ELF file (it does not start with \\x7fELF)"),
        ("cut in the header", { @Sendable (b: inout [UInt8]) in b = Array(b[..<40]) }, "a malformed ELF file: the ELF header is cut short (40 of 64 bytes)"),
        ("32-bit", { @Sendable (b: inout [UInt8]) in b[4] = 1 }, "not a 64-bit little-endian ELF file (class 1, data 1, version 1; pfhost reads ELF64 LSB version 1)"),
        ("big-endian", { @Sendable (b: inout [UInt8]) in b[5] = 2 }, "not a 64-bit little-endian ELF file (class 2, data 2, version 1; pfhost reads ELF64 LSB version 1)"),
        ("an executable", { @Sendable (b: inout [UInt8]) in b[16] = 2 }, "not a shared object (ELF type 2, a shared object is 3); build it with -shared"),
        ("program headers past the end", { @Sendable (b: inout [UInt8]) in put64(&b, 32, UInt64(b.count - 8)) }, "reaches past the end of the file"),
        ("program headers at 2^64 - 8", { @Sendable (b: inout [UInt8]) in put64(&b, 32, UInt64.max - 7) }, "starts at offset 18446744073709551608, past the end of the file"),
        ("PT_DYNAMIC past the end", { @Sendable (b: inout [UInt8]) in put64(&b, dynamicHeader(b).header + 8, UInt64(b.count)) }, "reaches past the end of the file"),
        ("PT_DYNAMIC size overflowing", { @Sendable (b: inout [UInt8]) in put64(&b, dynamicHeader(b).header + 32, UInt64.max - 15) }, "reaches past the end of the file"),
        ("no PT_DYNAMIC", { @Sendable (b: inout [UInt8]) in b[dynamicHeader(b).header] = 6 }, "a malformed shared object: it has no PT_DYNAMIC segment"),
        ("no DT_NULL", { @Sendable (b: inout [UInt8]) in
            let (header, entries) = dynamicHeader(b)
            let size = Int(u64(b, header + 32))
            for at in stride(from: entries, to: entries + size, by: 16) where u64(b, at) == 0 { put64(&b, at, 0x6000_0000) }
        }, "the dynamic section has no DT_NULL entry"),
        ("a DT_NEEDED outside the string table", { @Sendable (b: inout [UInt8]) in put64(&b, entry(b, tag: 1) + 8, 1 << 40) }, "a DT_NEEDED name is at index 1099511627776 of a string table of"),
        ("DT_STRTAB outside every PT_LOAD", { @Sendable (b: inout [UInt8]) in put64(&b, entry(b, tag: 5) + 8, 1 << 50) }, "DT_STRTAB (address 0x4000000000000) is not inside any PT_LOAD segment's file image"),
        ("DT_STRSZ running past its segment", { @Sendable (b: inout [UInt8]) in put64(&b, entry(b, tag: 10) + 8, UInt64.max) }, "DT_STRTAB (address"),
        ("a runpath without its NUL", { @Sendable (b: inout [UInt8]) in
            let size = u64(b, entry(b, tag: 10) + 8)
            put64(&b, entry(b, tag: 29) + 8, size - 1)
            // The string table's last byte, a NUL, made a letter.
            let strtab = Int(u64(b, entry(b, tag: 5) + 8))
            b[strtab + Int(size) - 1] = UInt8(ascii: "x")
        }, "runs past the end of the string table"),
    ] as [(String, @Sendable (inout [UInt8]) -> Void, String)])
    func damaged(what: String, damage: @Sendable (inout [UInt8]) -> Void, problem: String) {
        var bytes = Self.built.bytes
        damage(&bytes)
        #expect {
            _ = try Self.parse(bytes)
        } throws: { error in
            "\(error)".contains(problem)
        }
    }

    @Test("every single-byte damage of the headers and dynamic section: a result or a problem, never a crash")
    func fuzz() {
        let bytes = Self.built.bytes
        let (_, entries) = Self.dynamicHeader(bytes)
        var generator = Generator(seed: 7)
        let hot = Array(0..<64) + Array(Int(Self.u64(bytes, 32))..<(Int(Self.u64(bytes, 32)) + 56 * Self.u16(bytes, 56)))
            + Array(entries..<min(bytes.count, entries + 512))
        for _ in 0..<3_000 {
            var copy = bytes
            for _ in 0..<(1 + Int(generator.next() % 3)) {
                copy[hot[Int(generator.next() % UInt64(hot.count))]] = UInt8(truncatingIfNeeded: generator.next())
            }
            if let dynamic = try? Self.parse(copy) {
                _ = try? dynamic.symbols(file: ELFDynamicSection.Reader(size: Int64(copy.count)) { (offset, count) throws(ELFDynamicSection.Problem) -> [UInt8] in
                    Array(copy[Int(offset)..<(Int(offset) + count)])
                })
            }
        }
    }

    @Test("the loader refuses a damaged plugin with the reader's words, before dlopen")
    func loaderRefusesDamaged() throws {
        let dir = TemporaryDirectory()
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: PluginBuilder.standard[.trace]!)))
        bytes[4] = 1
        let file = dir.file("x.so")
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        #expect(chmod(file, 0o755) == 0)
        #expect {
            try PluginLoader.load(file)
        } throws: { error in
            "\(error)" == "\(file): cannot be loaded: not a 64-bit little-endian ELF file (class 1, data 1, version 1; pfhost reads ELF64 LSB version 1)"
        }
    }
}
