import Testing
@testable import PFPluginKit
#if canImport(Glibc)
import Glibc
#endif

@Suite("Exclude patterns")
struct ExcludePatternsTests {
    /// What the patterns promise: a match exactly when fnmatch matches the path or the name.
    private func fnmatchAny(_ patterns: [String], path: String, leaf: String) -> Bool {
        patterns.contains { fnmatch($0, path, 0) == 0 || fnmatch($0, leaf, 0) == 0 }
    }

    @Test("literal, suffix and glob patterns match as fnmatch does, on the path or the name", arguments: [
        ("__pycache__", "a/__pycache__", "__pycache__", true), ("__pycache__", "__pycache__x", "__pycache__x", false),
        ("build/cache", "build/cache", "cache", true), ("build/cache", "x/build/cache", "cache", false),
        ("*.tmp", "a/b.tmp", "b.tmp", true), ("*.tmp", "a.tmp/b", "b", false), ("*.tmp", ".tmp", ".tmp", true),
        ("*", "anything/at/all", "all", true), ("*/x", "a/x", "x", true), ("*/x", "x", "x", false),
        ("*.t?p", "a/b.tmp", "b.tmp", true), ("[ab]*", "c/a1", "a1", true), ("\\*", "*", "*", true), ("", "", "", true),
    ])
    func forms(pattern: String, path: String, leaf: String, expected: Bool) {
        #expect(ExcludePatterns([pattern]).matches(path: path, leaf: leaf) == expected)
        #expect(fnmatchAny([pattern], path: path, leaf: leaf) == expected)
    }

    @Test("agree with fnmatch on random patterns and paths")
    func randomAgreement() {
        var generator = SystemRandomNumberGenerator()
        let pieces = ["a", "b", ".", "/", "*", "?", "tmp", "[ab]", "\\*", "é"]
        func random(_ count: Int, _ from: [String]) -> String {
            (0..<Int.random(in: 0...count, using: &generator)).map { _ in from.randomElement(using: &generator)! }.joined()
        }
        for _ in 0..<5000 {
            let patterns = (0..<Int.random(in: 1...3, using: &generator)).map { _ in random(4, pieces) }
            let leaf = random(3, ["a", "b", ".", "tmp", "é", "*"])
            let path = random(2, ["a/", "b/", "tmp/", "./"]) + leaf
            #expect(ExcludePatterns(patterns).matches(path: path, leaf: leaf) == fnmatchAny(patterns, path: path, leaf: leaf),
                    "\(patterns) \(path) \(leaf)")
        }
    }
}
