import Foundation
import Testing
import PFModel
import PFSystem
@testable import PFHost

/// A trusted plugin that names libraries in places others can write is refused before anything is
/// loaded: real libraries, built by cc, with constructors that leave a marker.
@Suite("Plugin dependencies")
struct PluginDependencyTests {
    /// A scratch directory, a plugin directory in it, and helpers to build libraries and plugins.
    struct Setup {
        let dir = TemporaryDirectory()
        /// A name no other test uses: the loader matches loaded libraries by name and soname.
        let tag = "h" + UUID().uuidString.prefix(8).lowercased()
        var plugins: String { dir.directory("plugins") }

        /// `lib<tag><suffix>.so` in `directory`, whose constructor creates the file ``marker(_:)``
        /// names; `link` adds linker arguments (`-Wl,-soname,…`, `-Wl,-rpath,…`, `-l…`).
        @discardableResult
        func library(_ suffix: String = "", in directory: String, link: [String] = []) throws -> String {
            let name = "\(tag)\(suffix)"
            let source = dir.file("\(name).c")
            try Data("""
                #include <stdio.h>
                __attribute__((constructor)) static void ran(void) {
                    FILE *marker = fopen("\(marker(suffix))", "w");
                    if (marker != NULL) fclose(marker);
                }
                int \(name)_helper(void) { return 1; }
                """.utf8).write(to: URL(fileURLWithPath: source))
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let output = directory + "/lib\(name).so"
            let result = try run("/usr/bin/cc", ["-shared", "-fPIC", "-o", output, source] + link)
            guard result.status == 0 else { throw PluginBuilder.BuildFailure(output: result.description) }
            #expect(Foundation.chmod(output, 0o755) == 0)
            return output
        }

        /// Created by the constructor of the library built with `suffix`.
        func marker(_ suffix: String = "") -> String { dir.file("ran-\(tag)\(suffix)") }

        func ran(_ suffix: String = "") -> Bool { FileManager.default.fileExists(atPath: marker(suffix)) }

        /// A trace plugin in ``plugins`` that needs `lib<tag><suffix>.so` (kept even though it uses
        /// nothing of it), with `link` (the `-L`, `-rpath`… to find it).
        func plugin(needing suffix: String = "", link: [String]) throws -> String {
            try PluginBuilder.build(kind: .trace, link: ["-Wl,--no-as-needed", "-l\(tag)\(suffix)"] + link, into: plugins, name: "dep.so")
        }

        /// The refusal of loading `file`, or nil when it loads.
        func refusal(_ file: String, trust: PluginTrust = PluginTrust()) -> PluginRefusal? {
            do {
                _ = try PluginLoader.load(file, allowInsecurePlugins: false, trust: trust)
                return nil
            } catch {
                return error
            }
        }
    }

    static func real(_ path: String) -> String { PluginLoadRaceTests.real(path) }

    static func chmod(_ path: String, _ mode: mode_t) {
        #expect(Foundation.chmod(path, mode) == 0, "chmod \(path)")
    }

    @Test("a RUNPATH directory others can write: refused naming it, its library never loaded; once 0755, it loads")
    func writableRunpathDirectory() throws {
        let setup = Setup()
        let libraries = setup.dir.directory("wlib")
        try setup.library(in: libraries)
        let file = try setup.plugin(link: ["-L", libraries, "-Wl,-rpath,\(libraries)"])
        Self.chmod(libraries, 0o777)
        let refusal = try #require(setup.refusal(file))
        let real = Self.real(libraries)
        #expect(refusal == .untrustedDependency(file: file, problem: .untrustedDirectory(
            object: Self.real(file), tag: "RUNPATH", entry: libraries, problem: .writable(path: real, mode: 0o777))))
        #expect(refusal.description == "\(file): not loaded, a library it would load is untrusted: \(Self.real(file)) has RUNPATH \(libraries): "
            + "\(real) is writable by others (mode 0777); run chmod go-w \(real)")
        #expect(!setup.ran())
        // pfhost plugins shows the same reason in the row.
        let listed = try pfhost("plugins", "--plugins", setup.plugins)
        #expect(listed.status == 2 && listed.stdout.contains("refused: " + refusal.reason), "\(listed)")
        #expect(!setup.ran())

        Self.chmod(libraries, 0o755)
        #expect(setup.refusal(file) == nil)
        #expect(setup.ran(), "the library is really loaded with the plugin")
    }

    @Test("DT_RPATH is checked like DT_RUNPATH")
    func writableRpathDirectory() throws {
        let setup = Setup()
        let libraries = setup.dir.directory("wlib")
        try setup.library(in: libraries)
        let file = try setup.plugin(link: ["-L", libraries, "-Wl,--disable-new-dtags", "-Wl,-rpath,\(libraries)"])
        Self.chmod(libraries, 0o775)
        guard case .untrustedDependency(_, .untrustedDirectory(_, "RPATH", libraries, .writable(_, 0o775)))? = setup.refusal(file) else {
            Issue.record("not refused for its RPATH: \(String(describing: setup.refusal(file)))")
            return
        }
        #expect(!setup.ran())
    }

    @Test("a library others can write in a trusted directory: refused naming the library")
    func writableLibrary() throws {
        let setup = Setup()
        let libraries = setup.dir.directory("lib")
        let library = try setup.library(in: libraries)
        let file = try setup.plugin(link: ["-L", libraries, "-Wl,-rpath,\(libraries)"])
        Self.chmod(library, 0o666)
        let refusal = try #require(setup.refusal(file))
        #expect(refusal.description == "\(file): not loaded, a library it would load is untrusted: \(Self.real(file)) needs lib\(setup.tag).so: "
            + "\(Self.real(library)) is writable by others (mode 0666); run chmod go-w \(Self.real(library))")
        #expect(!setup.ran())
    }

    @Test("$ORIGIN is the plugin's directory: a 0777 $ORIGIN/lib is refused; a trusted one loads (a library with a soname)",
          arguments: ["$ORIGIN/lib", "${ORIGIN}/lib"])
    func origin(entry: String) throws {
        let setup = Setup()
        let libraries = setup.plugins + "/lib"
        try setup.library(in: libraries, link: ["-Wl,-soname,lib\(setup.tag).so"])
        let file = try setup.plugin(link: ["-L", libraries, "-Wl,-rpath,\(entry)"])
        Self.chmod(libraries, 0o777)
        let refusal = try #require(setup.refusal(file))
        #expect(refusal == .untrustedDependency(file: file, problem: .untrustedDirectory(
            object: Self.real(file), tag: "RUNPATH", entry: entry, problem: .writable(path: Self.real(libraries), mode: 0o777))))
        #expect(!setup.ran())
        Self.chmod(libraries, 0o755)
        #expect(setup.refusal(file) == nil)
        #expect(setup.ran())
    }

    @Test("$ORIGIN may be sticky (the plugin directory's rule: the loader never searches it), and what else sits there does not matter")
    func originIsThePluginDirectory() throws {
        let setup = Setup()
        let libraries = setup.plugins + "/lib"
        try setup.library(in: libraries, link: ["-Wl,-soname,lib\(setup.tag).so"])
        let file = try setup.plugin(link: ["-L", libraries, "-Wl,-rpath,$ORIGIN/lib:$ORIGIN"])
        Self.chmod(libraries, 0o1777)
        // Unrelated entries beside the plugin: a link into a 0777 directory, a 0777 variant-looking one.
        let open = setup.dir.directory("open")
        Self.chmod(open, 0o777)
        try FileManager.default.createSymbolicLink(atPath: setup.plugins + "/other.so", withDestinationPath: open + "/other.so")
        try FileManager.default.createDirectory(atPath: libraries + "/tls", withIntermediateDirectories: false)
        Self.chmod(libraries + "/tls", 0o777)
        #expect(setup.refusal(file) == nil)
        #expect(setup.ran())
    }

    @Test("an $ORIGIN entry climbing out of /proc/self/fd is checked where the loader will look: a missing directory in a sticky one is refused")
    func originClimbingOut() throws {
        let setup = Setup()
        let libraries = setup.dir.directory("lib")
        try setup.library(in: libraries)
        let sticky = setup.dir.directory("sticky")
        Self.chmod(sticky, 0o1777)
        // /proc/self/fd/../../.. is /: the loader, seeing $ORIGIN as /proc/self/fd, searches <sticky>/later.
        let entry = "$ORIGIN/../../.." + Self.real(sticky) + "/later"
        let file = try setup.plugin(link: ["-L", libraries, "-Wl,-rpath,\(entry):\(libraries)"])
        #expect(setup.refusal(file) == .untrustedDependency(file: file, problem: .untrustedDirectory(
            object: Self.real(file), tag: "RUNPATH", entry: entry,
            problem: .creatable(path: Self.real(sticky) + "/later", parent: Self.real(sticky), mode: 0o1777))))
        #expect(!setup.ran())
    }

    @Test("names with a dot in a library directory are not variant directories: a link from one into a 0777 directory is not followed")
    func dottedNamesAreNotVariants() throws {
        let setup = Setup()
        let libraries = setup.dir.directory("lib")
        try setup.library(in: libraries)
        let file = try setup.plugin(link: ["-L", libraries, "-Wl,-rpath,\(libraries)"])
        let open = setup.dir.directory("open")
        Self.chmod(open, 0o777)
        try FileManager.default.createSymbolicLink(atPath: libraries + "/libother.so.1", withDestinationPath: open + "/libother.so.1")
        #expect(setup.refusal(file) == nil)
        #expect(setup.ran())
    }

    @Test("a library beside the plugin through $ORIGIN without a soname: loaded ahead, then the refusal says to give it one")
    func originWithoutSoname() throws {
        let setup = Setup()
        let libraries = setup.plugins + "/lib"
        try setup.library(in: libraries)
        let file = try setup.plugin(link: ["-L", libraries, "-Wl,-rpath,$ORIGIN/lib"])
        guard case .notLoadable(file, let reason)? = setup.refusal(file) else {
            Issue.record("not refused as not loadable: \(String(describing: setup.refusal(file)))")
            return
        }
        #expect(reason.contains("so the loader finds lib\(setup.tag).so only by soname: link it with -Wl,-soname,NAME"), "\(reason)")
    }

    @Test("a sticky 1777 RUNPATH directory is refused: anyone could add a library to it")
    func stickyRunpathDirectory() throws {
        let setup = Setup()
        let libraries = setup.dir.directory("shared")
        try setup.library(in: libraries)
        let file = try setup.plugin(link: ["-L", libraries, "-Wl,-rpath,\(libraries)"])
        Self.chmod(libraries, 0o1777)
        let refusal = try #require(setup.refusal(file))
        #expect(refusal == .untrustedDependency(file: file, problem: .untrustedDirectory(
            object: Self.real(file), tag: "RUNPATH", entry: libraries, problem: .sharedLibraryDirectory(path: Self.real(libraries), mode: 0o1777))))
        #expect(refusal.reason.hasSuffix("is writable by others (mode 1777) and libraries are looked up there: sticky or not, anyone could add one; "
            + "keep the libraries in a directory only root or you can write (or run chmod go-w \(Self.real(libraries)))"), "\(refusal)")
        #expect(!setup.ran())
    }

    @Test("a missing RUNPATH directory: refused where others could create it, fine where only root or you could")
    func missingRunpathDirectory() throws {
        let setup = Setup()
        let libraries = setup.dir.directory("lib")
        try setup.library(in: libraries)
        let sticky = setup.dir.directory("sticky")
        Self.chmod(sticky, 0o1777)
        let file = try setup.plugin(link: ["-L", libraries, "-Wl,-rpath,\(sticky)/later/lib:\(setup.dir.path)/none/lib:\(libraries)"])
        let refusal = try #require(setup.refusal(file))
        #expect(refusal == .untrustedDependency(file: file, problem: .untrustedDirectory(
            object: Self.real(file), tag: "RUNPATH", entry: "\(sticky)/later/lib",
            problem: .creatable(path: Self.real(sticky) + "/later", parent: Self.real(sticky), mode: 0o1777))))
        #expect(!setup.ran())
        // Without the sticky entry: the missing <dir>/none/lib could only be made by its owner.
        let fine = try setup.plugin(link: ["-L", libraries, "-Wl,-rpath,\(setup.dir.path)/none/lib:\(libraries)"])
        #expect(setup.refusal(fine) == nil)
        #expect(setup.ran())
    }

    @Test("the loader also searches variant directories beneath (glibc-hwcaps, tls…): one others can write is refused",
          arguments: ["glibc-hwcaps/x86-64-v2", "tls", "haswell/x86_64"])
    func writableVariantDirectory(variant: String) throws {
        let setup = Setup()
        let libraries = setup.dir.directory("lib")
        try setup.library(in: libraries)
        let file = try setup.plugin(link: ["-L", libraries, "-Wl,-rpath,\(libraries)"])
        try FileManager.default.createDirectory(atPath: libraries + "/" + variant, withIntermediateDirectories: true)
        Self.chmod(libraries + "/" + variant, 0o777)
        let refusal = try #require(setup.refusal(file))
        #expect(refusal == .untrustedDependency(file: file, problem: .untrustedDirectory(
            object: Self.real(file), tag: "RUNPATH", entry: libraries, problem: .writable(path: Self.real(libraries) + "/" + variant, mode: 0o777))))
        #expect(!setup.ran())
    }

    @Test("a variant directory that is a symlink to a 0777 directory is refused; a variant copy of the library is checked too")
    func variantLinksAndCopies() throws {
        let setup = Setup()
        let libraries = setup.dir.directory("lib")
        try setup.library(in: libraries)
        let file = try setup.plugin(link: ["-L", libraries, "-Wl,-rpath,\(libraries)"])
        let elsewhere = setup.dir.directory("elsewhere")
        Self.chmod(elsewhere, 0o777)
        try FileManager.default.createSymbolicLink(atPath: libraries + "/tls", withDestinationPath: elsewhere)
        guard case .untrustedDependency(_, .untrustedDirectory(_, _, _, .writable(let path, 0o777)))? = setup.refusal(file) else {
            Issue.record("not refused: \(String(describing: setup.refusal(file)))")
            return
        }
        #expect(path == Self.real(elsewhere))
        try FileManager.default.removeItem(atPath: libraries + "/tls")
        // A copy in glibc-hwcaps/x86-64-v3 the loader may prefer: 0666 there is refused.
        let copy = try setup.library(in: libraries + "/glibc-hwcaps/x86-64-v3")
        Self.chmod(copy, 0o666)
        guard case .untrustedDependency(_, .untrustedLibrary(_, "lib\(setup.tag).so", .writable(let at, 0o666)))? = setup.refusal(file) else {
            Issue.record("the variant copy is not refused: \(String(describing: setup.refusal(file)))")
            return
        }
        #expect(at == Self.real(copy))
        #expect(!setup.ran())
    }

    @Test("entries pfhost cannot check are refused: $LIB, $PLATFORM, a relative or empty entry", arguments: [
        ("$LIB/x", "uses $LIB, which pfhost does not expand (the loader picks a directory by platform); relink with the directory spelled out"),
        ("${PLATFORM}/x", "uses ${PLATFORM}, which pfhost does not expand (the loader picks a directory by platform); relink with the directory spelled out"),
        ("lib", "is relative, so the loader would look for libraries from whatever the current directory is; relink with an absolute path or $ORIGIN"),
    ])
    func uncheckableEntries(entry: String, reason: String) throws {
        let setup = Setup()
        let libraries = setup.dir.directory("lib")
        try setup.library(in: libraries)
        let file = try setup.plugin(link: ["-L", libraries, "-Wl,-rpath,\(entry):\(libraries)"])
        #expect(setup.refusal(file) == .untrustedDependency(file: file, problem: .uncheckableEntry(
            object: Self.real(file), tag: "RUNPATH", entry: entry, reason: reason)))
        #expect(!setup.ran())
    }

    @Test("a trusted library whose own RUNPATH is 0777 makes the plugin refused, naming that library")
    func transitive() throws {
        let setup = Setup()
        let open = setup.dir.directory("open")
        try setup.library("b", in: open)
        let trusted = setup.dir.directory("lib")
        let a = try setup.library("a", in: trusted, link: ["-Wl,--no-as-needed", "-L", open, "-l\(setup.tag)b", "-Wl,-rpath,\(open)"])
        let file = try setup.plugin(needing: "a", link: ["-L", trusted, "-Wl,-rpath,\(trusted)"])
        Self.chmod(open, 0o777)
        #expect(setup.refusal(file) == .untrustedDependency(file: file, problem: .untrustedDirectory(
            object: Self.real(a), tag: "RUNPATH", entry: open, problem: .writable(path: Self.real(open), mode: 0o777))))
        #expect(!setup.ran("a") && !setup.ran("b"))
        Self.chmod(open, 0o755)
        #expect(setup.refusal(file) == nil)
        #expect(setup.ran("a") && setup.ran("b"))
    }

    @Test("a DT_NEEDED that is a path (a library without a soname linked by path) is checked as that path")
    func neededPath() throws {
        let setup = Setup()
        let open = setup.dir.directory("open")
        let library = try setup.library(in: open)
        let file = try PluginBuilder.build(kind: .trace, link: ["-Wl,--no-as-needed", library], into: setup.plugins, name: "dep.so")
        Self.chmod(open, 0o777)
        #expect(setup.refusal(file) == .untrustedDependency(file: file, problem: .untrustedLibrary(
            object: Self.real(file), name: library, problem: .writable(path: Self.real(open), mode: 0o777))))
        #expect(!setup.ran())
    }

    @Test("a library replaced between its check and its open is refused as changed (fault-hook seam)")
    func libraryReplacedAfterCheck() throws {
        let setup = Setup()
        let libraries = setup.dir.directory("lib")
        let library = try setup.library(in: libraries)
        let file = try setup.plugin(link: ["-L", libraries, "-Wl,-rpath,\(libraries)"])
        let other = try setup.library("x", in: setup.dir.directory("other"))
        let checked = Self.real(library)
        let trust = PluginLoadRaceTests.trust(openingAt: checked) { _ = rename(other, library) }
        #expect(setup.refusal(file, trust: trust) == .untrustedDependency(file: file, problem: .untrustedLibrary(
            object: Self.real(file), name: "lib\(setup.tag).so", problem: .changed(path: checked))))
        #expect(!setup.ran() && !setup.ran("x"))
    }

    @Test("the reference plugins (RUNPATH: the toolchain's directory and $ORIGIN) pass and load")
    func referencePlugins() throws {
        let listed = try pfhost("plugins", "--plugins", productsDirectory)
        #expect(listed.status == 0, "\(listed)")
        #expect(listed.stdout.split(separator: "\n").filter { $0.hasSuffix("  ok") }.count == 5, "\(listed)")
    }
}
