import PFSystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the dynamic loader reads of a shared object before it runs any of its code: the libraries it
/// needs, where it asks for them to be searched, its soname, and its dynamic symbols.
///
/// Read from an open descriptor with `pread`, never mapped, so a file that is not ELF at all, or is
/// damaged or built to mislead, costs a clear ``Problem`` and nothing else. Only 64-bit
/// little-endian objects (`x86_64`, `aarch64`: the platforms pfhost runs on) are read. Every offset,
/// size and count taken from the file is checked against the file's size and against fixed limits
/// with overflow-checked arithmetic before anything is read at it.
///
/// The path is: the ELF header → the program headers → `PT_DYNAMIC` → its entries
/// (`DT_NEEDED`, `DT_FILTER`, `DT_AUXILIARY`, `DT_RPATH`, `DT_RUNPATH`, `DT_SONAME`, `DT_STRTAB`,
/// `DT_STRSZ`, `DT_SYMTAB`, `DT_HASH`, `DT_GNU_HASH`), whose addresses are translated to file
/// offsets through the `PT_LOAD` segments, as the loader does. Section headers are not used: a
/// stripped object has none, and the loader never reads them.
///
/// ```swift
/// let dynamic = try ELFDynamicSection(descriptor: fd, path: "/opt/plugins/libpf-world.so")
/// dynamic.needed    // ["libswiftCore.so", "libc.so.6", …]
/// dynamic.runpath   // "/opt/swift/usr/lib/swift/linux:$ORIGIN"
/// ```
public struct ELFDynamicSection: Sendable {
    /// Why a file cannot be read as a shared object.
    public enum Problem: Error, Hashable, Sendable, CustomStringConvertible {
        /// It does not start with `\x7fELF`.
        case notELF
        /// Not a 64-bit little-endian ELF file of version 1 (`EI_CLASS`, `EI_DATA`, `EI_VERSION`).
        case unsupportedFormat(elfClass: UInt8, data: UInt8, version: UInt8)
        /// `e_type` is not `ET_DYN`.
        case notSharedObject(type: UInt16)
        /// No `PT_DYNAMIC` segment: a static object, nothing a loader can link.
        case noDynamicSegment
        /// A value of the file that leads outside it or breaks the format; `what` says which.
        case malformed(String)
        /// Reading the file failed.
        case unreadable(reason: String)

        public var description: String {
            switch self {
            case .notELF:
                "not an ELF file (it does not start with \\x7fELF)"
            case .unsupportedFormat(let elfClass, let data, let version):
                "not a 64-bit little-endian ELF file (class \(elfClass), data \(data), version \(version); pfhost reads ELF64 LSB version 1)"
            case .notSharedObject(let type):
                "not a shared object (ELF type \(type), a shared object is \(ELFDynamicSection.sharedObjectType)); build it with -shared"
            case .noDynamicSegment:
                "a malformed shared object: it has no PT_DYNAMIC segment"
            case .malformed(let what):
                "a malformed ELF file: \(what)"
            case .unreadable(let reason):
                "unreadable (\(reason))"
            }
        }
    }

    /// A symbol of the dynamic symbol table.
    public struct Symbol: Hashable, Sendable {
        /// Its name (not demangled).
        public let name: String
        /// Whether this object defines it (`st_shndx` is not `SHN_UNDEF`), rather than needing it
        /// from another.
        public let isDefined: Bool
        /// `STT_FUNC`, `STT_OBJECT`… (the low four bits of `st_info`).
        public let type: UInt8
        /// `STB_GLOBAL`, `STB_WEAK`… (the high four bits of `st_info`).
        public let binding: UInt8
    }

    /// `DT_NEEDED`, in order: the libraries loaded with it.
    public let needed: [String]
    /// `DT_FILTER` and `DT_AUXILIARY`, in order: libraries the loader also loads, by the same search.
    public let filters: [String]
    /// `DT_RPATH`, as written (colon-separated, `$ORIGIN` unexpanded), or nil.
    public let rpath: String?
    /// `DT_RUNPATH`, as written, or nil. When present, the loader ignores this object's `DT_RPATH`.
    public let runpath: String?
    /// `DT_SONAME`, or nil.
    public let soname: String?

    // Where the dynamic symbols are, for ``symbols(descriptor:path:)``, read only when asked for.
    let symbolTables: SymbolTables
    let stringTable: (offset: Int64, size: Int64)

    /// `ET_DYN`.
    public static let sharedObjectType: UInt16 = 3
    /// Strings longer than this (a path, a library name) are refused: the loader's own limit is `PATH_MAX`.
    static let maximumString = 4096
    /// At most this many program headers, dynamic entries and symbols are read.
    static let maximumProgramHeaders = 4096
    static let maximumDynamicEntries = 65_536
    static let maximumSymbols = 1 << 22
    /// A dynamic string table larger than this is refused when it is read whole.
    static let maximumStringTable = 64 << 20

    /// Reads the dynamic section of the shared object open as `descriptor` (which does not move).
    ///
    /// - Parameter path: the file's name, for messages.
    public init(descriptor: Int32, path: String, system: SystemCalls = SystemCalls()) throws(Problem) {
        let size: Int64
        do { size = Int64(try system.status(descriptor, path: path).st_size) } catch {
            throw .unreadable(reason: error.reason)
        }
        try self.init(size: size) { (offset, count) throws(Problem) -> [UInt8] in
            try Self.read(descriptor, path: path, system: system, offset: offset, count: count)
        }
    }

    /// Reads the dynamic section through `read(offset, count)`, which returns exactly `count`
    /// bytes (callers only ask within `size`).
    init(size: Int64, read: @escaping (Int64, Int) throws(Problem) -> [UInt8]) throws(Problem) {
        let file = Reader(size: size, read: read)
        let header = try file.bytes(at: 0, count: 64, what: "the ELF header", allowShort: true)
        guard header.count >= 4, header[0] == 0x7f, header[1] == UInt8(ascii: "E"), header[2] == UInt8(ascii: "L"),
              header[3] == UInt8(ascii: "F") else { throw .notELF }
        guard header.count == 64 else { throw .malformed("the ELF header is cut short (\(header.count) of 64 bytes)") }
        guard header[4] == 2, header[5] == 1, header[6] == 1 else {
            throw .unsupportedFormat(elfClass: header[4], data: header[5], version: header[6])
        }
        let type = Reader.u16(header, 16)
        guard type == Self.sharedObjectType else { throw .notSharedObject(type: type) }
        let programOffset = Reader.u64(header, 32)
        let programEntrySize = Int(Reader.u16(header, 54))
        let programCount = Int(Reader.u16(header, 56))
        guard programCount != 0xffff else {
            throw .malformed("e_phnum is PN_XNUM (more than 65534 program headers), which the loader does not support")
        }
        guard programEntrySize >= 56 else { throw .malformed("e_phentsize is \(programEntrySize), smaller than an Elf64_Phdr (56)") }
        guard programCount <= Self.maximumProgramHeaders else { throw .malformed("\(programCount) program headers") }
        let table = try file.bytes(at: programOffset, count: programEntrySize * programCount, what: "the program headers")

        // PT_LOAD segments map addresses to file offsets; PT_DYNAMIC is the dynamic section.
        var loads: [Segment] = []
        var dynamic: Segment?
        for number in 0..<programCount {
            let base = number * programEntrySize
            let segment = Segment(
                type: Reader.u32(table, base), offset: Reader.u64(table, base + 8), address: Reader.u64(table, base + 16),
                fileSize: Reader.u64(table, base + 32), memorySize: Reader.u64(table, base + 40))
            // Only what the loader uses is checked: PT_LOAD and PT_DYNAMIC.
            if segment.type == 1 || segment.type == 2 {
                let (end, overflow) = segment.offset.addingReportingOverflow(segment.fileSize)
                guard !overflow, end <= UInt64(size) else {
                    throw .malformed("program header \(number) (type \(segment.type)) reaches past the end of the file (offset \(segment.offset), size \(segment.fileSize), file \(size) bytes)")
                }
                guard !segment.address.addingReportingOverflow(segment.memorySize).overflow, segment.fileSize <= segment.memorySize else {
                    throw .malformed("program header \(number) (type \(segment.type)) has a file size larger than its memory size or wraps around the address space")
                }
            }
            switch segment.type {
            case 1: loads.append(segment)   // PT_LOAD
            case 2:                         // PT_DYNAMIC
                guard dynamic == nil else { throw .malformed("more than one PT_DYNAMIC segment") }
                dynamic = segment
            default: break
            }
        }
        guard let dynamic else { throw .noDynamicSegment }
        guard dynamic.fileSize % 16 == 0 else { throw .malformed("PT_DYNAMIC's size \(dynamic.fileSize) is not a whole number of entries") }
        let entryCount = min(Int(clamping: dynamic.fileSize / 16), Self.maximumDynamicEntries)
        let entries = try file.bytes(at: dynamic.offset, count: entryCount * 16, what: "the dynamic section")

        var neededOffsets: [UInt64] = [], filterOffsets: [UInt64] = []
        var rpathOffset: UInt64?, runpathOffset: UInt64?, sonameOffset: UInt64?
        var stringAddress: UInt64?, stringSize: UInt64?, symbolAddress: UInt64?, symbolEntrySize: UInt64?
        var hashAddress: UInt64?, gnuHashAddress: UInt64?
        var terminated = false
        for number in 0..<entryCount {
            let tag = Int64(bitPattern: Reader.u64(entries, number * 16))
            let value = Reader.u64(entries, number * 16 + 8)
            switch tag {
            case 0: terminated = true                    // DT_NULL
            case 1: neededOffsets.append(value)          // DT_NEEDED
            case 4: hashAddress = value                  // DT_HASH
            case 5: stringAddress = value                // DT_STRTAB
            case 6: symbolAddress = value                // DT_SYMTAB
            case 10: stringSize = value                  // DT_STRSZ
            case 11: symbolEntrySize = value             // DT_SYMENT
            case 14: sonameOffset = value                // DT_SONAME
            case 15: rpathOffset = value                 // DT_RPATH
            case 29: runpathOffset = value               // DT_RUNPATH
            case 0x6fff_fef5: gnuHashAddress = value     // DT_GNU_HASH
            case 0x7fff_fffd, 0x7fff_ffff: filterOffsets.append(value)   // DT_AUXILIARY, DT_FILTER
            default: break
            }
            if terminated { break }
        }
        guard terminated else { throw .malformed("the dynamic section has no DT_NULL entry within \(entryCount) entries") }

        let hasStrings = !neededOffsets.isEmpty || !filterOffsets.isEmpty || rpathOffset != nil || runpathOffset != nil || sonameOffset != nil
        if hasStrings || symbolAddress != nil {
            guard let stringAddress, let stringSize else { throw .malformed("names are used but DT_STRTAB or DT_STRSZ is missing") }
            let offset = try Self.fileOffset(of: stringAddress, size: stringSize, in: loads, what: "DT_STRTAB")
            stringTable = (Int64(offset), Int64(stringSize))
        } else {
            stringTable = (0, 0)
        }
        let strings = StringTable(file: file, offset: stringTable.offset, size: stringTable.size)
        needed = try neededOffsets.map { offset throws(Problem) in try strings.string(at: offset, what: "a DT_NEEDED name") }
        filters = try filterOffsets.map { offset throws(Problem) in try strings.string(at: offset, what: "a DT_FILTER or DT_AUXILIARY name") }
        rpath = try rpathOffset.map { offset throws(Problem) in try strings.string(at: offset, what: "DT_RPATH") }
        runpath = try runpathOffset.map { offset throws(Problem) in try strings.string(at: offset, what: "DT_RUNPATH") }
        soname = try sonameOffset.map { offset throws(Problem) in try strings.string(at: offset, what: "DT_SONAME") }

        if let symbolEntrySize, symbolEntrySize != 24 { throw .malformed("DT_SYMENT is \(symbolEntrySize), not 24 (an Elf64_Sym)") }
        symbolTables = SymbolTables(symbols: symbolAddress, hash: hashAddress, gnuHash: gnuHashAddress, loads: loads)
    }

    /// The dynamic symbols of the object open as `descriptor` (the one this was read from), the
    /// null symbol left out; empty when it has no symbol table or no hash table to count it by.
    public func symbols(descriptor: Int32, path: String, system: SystemCalls = SystemCalls()) throws(Problem) -> [Symbol] {
        try symbols(file: Self.reader(descriptor: descriptor, path: path, system: system))
    }

    /// Reads of the file open as `descriptor`, bounded by its size now.
    static func reader(descriptor: Int32, path: String, system: SystemCalls) throws(Problem) -> Reader {
        let size: Int64
        do { size = Int64(try system.status(descriptor, path: path).st_size) } catch {
            throw .unreadable(reason: error.reason)
        }
        return Reader(size: size) { (offset, count) throws(Problem) -> [UInt8] in
            try Self.read(descriptor, path: path, system: system, offset: offset, count: count)
        }
    }

    /// The dynamic symbol table's entries (24 bytes each, the null symbol first) and their count;
    /// nil when there is none or only the null symbol.
    private func symbolTable(file: Reader) throws(Problem) -> (table: [UInt8], count: Int)? {
        guard let address = symbolTables.symbols else { return nil }
        let count = try Self.symbolCount(file: file, loads: symbolTables.loads, hash: symbolTables.hash, gnuHash: symbolTables.gnuHash)
        guard count > 1 else { return nil }
        let offset = try Self.fileOffset(of: address, size: UInt64(count) * 24, in: symbolTables.loads, what: "DT_SYMTAB")
        return (try file.bytes(at: offset, count: count * 24, what: "the dynamic symbol table"), count)
    }

    func symbols(file: Reader) throws(Problem) -> [Symbol] {
        guard let (table, count) = try symbolTable(file: file) else { return [] }
        let strings = StringTable(file: file, offset: stringTable.offset, size: stringTable.size)
        var symbols: [Symbol] = []
        symbols.reserveCapacity(count - 1)
        for number in 1..<count {
            let base = number * 24
            let info = table[base + 4]
            symbols.append(Symbol(
                name: try strings.string(at: UInt64(Reader.u32(table, base)), what: "the name of dynamic symbol \(number)"),
                isDefined: Reader.u16(table, base + 6) != 0, type: info & 0xf, binding: info >> 4))
        }
        return symbols
    }

    /// The names of the symbols this object exports: defined, of global, weak or unique binding,
    /// and visible (default or protected), as the loader would bind them for another object. Two
    /// reads (the symbol table and the string table, each whole), however many symbols there are.
    public func exportedNames(descriptor: Int32, path: String, system: SystemCalls = SystemCalls()) throws(Problem) -> [String] {
        try exportedNames(file: Self.reader(descriptor: descriptor, path: path, system: system))
    }

    func exportedNames(file: Reader) throws(Problem) -> [String] {
        guard let (table, count) = try symbolTable(file: file) else { return [] }
        guard stringTable.size <= Int64(Self.maximumStringTable) else {
            throw .malformed("DT_STRSZ is \(stringTable.size) bytes, more than \(Self.maximumStringTable)")
        }
        let strings = try file.bytes(at: UInt64(stringTable.offset), count: Int(stringTable.size), what: "the dynamic string table")
        var names: [String] = []
        for number in 1..<count {
            let base = number * 24
            let binding = table[base + 4] >> 4, visibility = table[base + 5] & 3
            // STB_GLOBAL, STB_WEAK, STB_GNU_UNIQUE; STV_DEFAULT, STV_PROTECTED; not SHN_UNDEF.
            guard [1, 2, 10].contains(binding), visibility == 0 || visibility == 3, Reader.u16(table, base + 6) != 0 else { continue }
            let start = Int(Reader.u32(table, base))
            guard start < strings.count, let end = strings[start...].firstIndex(of: 0) else {
                throw .malformed("the name of dynamic symbol \(number) is outside the string table")
            }
            guard let name = String(validating: strings[start..<end], as: UTF8.self) else {
                throw .malformed("the name of dynamic symbol \(number) is not UTF-8")
            }
            names.append(name)
        }
        return names
    }

    // MARK: Reading

    /// A `PT_LOAD` or `PT_DYNAMIC` program header.
    struct Segment: Sendable {
        let type: UInt32
        let offset: UInt64
        let address: UInt64
        let fileSize: UInt64
        let memorySize: UInt64
    }

    /// The addresses of the symbol table and the hash tables that count it, and the segments to find them in.
    struct SymbolTables: Sendable {
        let symbols: UInt64?
        let hash: UInt64?
        let gnuHash: UInt64?
        let loads: [Segment]
    }

    /// Bounded reads of the file.
    struct Reader {
        let size: Int64
        let read: (Int64, Int) throws(Problem) -> [UInt8]

        /// `count` bytes at `offset`, all within the file (fewer only with `allowShort`, at its end).
        func bytes(at offset: UInt64, count: Int, what: String, allowShort: Bool = false) throws(Problem) -> [UInt8] {
            guard count > 0 else { return [] }
            let (end, overflow) = offset.addingReportingOverflow(UInt64(count))
            guard offset <= UInt64(size) else {
                throw .malformed("\(what) starts at offset \(offset), past the end of the file (\(size) bytes)")
            }
            if overflow || end > UInt64(size) {
                guard allowShort else {
                    throw .malformed("\(what) (offset \(offset), \(count) bytes) reaches past the end of the file (\(size) bytes)")
                }
                return try read(Int64(offset), Int(UInt64(size) - offset))
            }
            return try read(Int64(offset), count)
        }

        static func u16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) | UInt16(b[i + 1]) << 8 }
        static func u32(_ b: [UInt8], _ i: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(b[i + $1]) << (8 * $1) } }
        static func u64(_ b: [UInt8], _ i: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(b[i + $1]) << (8 * $1) } }
    }

    /// NUL-terminated strings inside `DT_STRTAB`.
    struct StringTable {
        let file: Reader
        let offset: Int64
        let size: Int64

        func string(at index: UInt64, what: String) throws(Problem) -> String {
            guard index < UInt64(size) else {
                throw .malformed("\(what) is at index \(index) of a string table of \(size) bytes")
            }
            // The table was checked to lie within the file, so offset + index cannot overflow.
            let count = Int(min(UInt64(size) - index, UInt64(ELFDynamicSection.maximumString + 1)))
            let bytes = try file.bytes(at: UInt64(offset) + index, count: count, what: what)
            guard let end = bytes.firstIndex(of: 0) else {
                throw count > ELFDynamicSection.maximumString
                    ? .malformed("\(what) is longer than \(ELFDynamicSection.maximumString) bytes")
                    : .malformed("\(what) runs past the end of the string table")
            }
            guard let text = String(validating: bytes[..<end], as: UTF8.self) else {
                throw .malformed("\(what) is not UTF-8")
            }
            return text
        }
    }

    static func read(_ fd: Int32, path: String, system: SystemCalls, offset: Int64, count: Int) throws(Problem) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let done: Int
        do {
            done = try withBytes(&bytes) { (raw) throws(SystemCallError) -> Int in
                try system.readFully(fd, into: raw, at: offset, path: path)
            }
        } catch {
            throw .unreadable(reason: error.reason)
        }
        // The size came from fstat: a file that shrank since is not what was checked.
        guard done == count else { throw .unreadable(reason: "the file shrank while it was read") }
        return bytes
    }

    /// The file offset of `size` bytes at virtual address `address`, which must lie within one
    /// `PT_LOAD` segment's file image.
    static func fileOffset(of address: UInt64, size: UInt64, in loads: [Segment], what: String) throws(Problem) -> UInt64 {
        for segment in loads where address >= segment.address {
            let delta = address - segment.address
            guard delta < segment.fileSize || (delta == segment.fileSize && size == 0) else { continue }
            guard size <= segment.fileSize - delta else {
                throw .malformed("\(what) (address 0x\(String(address, radix: 16)), \(size) bytes) runs past the end of its PT_LOAD segment")
            }
            return segment.offset + delta   // within the file: checked with the segment
        }
        throw .malformed("\(what) (address 0x\(String(address, radix: 16))) is not inside any PT_LOAD segment's file image")
    }

    /// How many entries the dynamic symbol table has, as the loader finds out: `DT_HASH`'s `nchain`,
    /// or the highest symbol index `DT_GNU_HASH` reaches, plus one. Zero without either.
    static func symbolCount(file: Reader, loads: [Segment], hash: UInt64?, gnuHash: UInt64?) throws(Problem) -> Int {
        if let hash {
            let header = try file.bytes(at: try fileOffset(of: hash, size: 8, in: loads, what: "DT_HASH"), count: 8, what: "DT_HASH")
            let count = Int(Reader.u32(header, 4))
            guard count <= maximumSymbols else { throw .malformed("DT_HASH counts \(count) symbols") }
            return count
        }
        guard let gnuHash else { return 0 }
        let start = try fileOffset(of: gnuHash, size: 16, in: loads, what: "DT_GNU_HASH")
        let header = try file.bytes(at: start, count: 16, what: "DT_GNU_HASH")
        let bucketCount = Int(Reader.u32(header, 0)), symbolOffset = Int(Reader.u32(header, 4))
        let bloomWords = Int(Reader.u32(header, 8))
        guard bucketCount <= maximumSymbols, bloomWords <= maximumSymbols, symbolOffset <= maximumSymbols else {
            throw .malformed("DT_GNU_HASH has \(bucketCount) buckets and \(bloomWords) bloom words")
        }
        let bucketsStart = start + 16 + UInt64(bloomWords) * 8
        let buckets = try file.bytes(at: bucketsStart, count: bucketCount * 4, what: "DT_GNU_HASH's buckets")
        var last = 0
        for number in 0..<bucketCount { last = max(last, Int(Reader.u32(buckets, number * 4))) }
        guard last >= symbolOffset else { return symbolOffset }
        // Follow the last bucket's chain to the entry with the low bit set: that is the last symbol.
        // Read in blocks, so a chain that never ends costs a bounded number of reads.
        let chainsStart = bucketsStart + UInt64(bucketCount) * 4
        var index = last
        while index < maximumSymbols {
            let available = (file.size - Int64(chainsStart)) / 4 - Int64(index - symbolOffset)
            guard available > 0 else { break }
            let block = Int(min(available, 1024))
            let entries = try file.bytes(at: chainsStart + UInt64(index - symbolOffset) * 4, count: block * 4, what: "DT_GNU_HASH's chains")
            for number in 0..<block where Reader.u32(entries, number * 4) & 1 == 1 { return index + number + 1 }
            index += block
        }
        throw .malformed("DT_GNU_HASH's last chain does not end within the file or \(maximumSymbols) symbols")
    }
}
