import Foundation
import PFModel

/// `pfbench json MANIFEST.json`: pfhost's JSON coding of a real manifest beside Foundation's.
enum JSONBench {
    static func run(_ path: String) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let runs = 50
        let clock = ContinuousClock()
        func time(_ name: String, _ body: () throws -> Void) rethrows {
            let start = clock.now
            for _ in 0..<runs { try body() }
            let each = (clock.now - start) / runs
            print(PFBench.pad(name, 44) + "\(each)")
        }
        print("JSON coding of a \(bytes.count / 1024) KiB manifest, mean of \(runs)\n")
        let manifest = try CanonicalJSON.decode(Manifest.self, from: bytes)
        try time("parse (strict)") { _ = try JSONParser.parse(bytes) }
        try time("decode: pfhost (parse + JSONValueDecoder)") { _ = try CanonicalJSON.decode(Manifest.self, from: bytes) }
        try time("decode: Foundation JSONDecoder") { _ = try JSONDecoder().decode(Manifest.self, from: Data(bytes)) }
        try time("encode: pfhost (JSONValueEncoder + write)") { _ = try CanonicalJSON.encode(manifest) }
        try time("encode: Foundation JSONEncoder (sorted)") {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            _ = try encoder.encode(manifest)
        }
    }
}
