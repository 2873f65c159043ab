/// The five layers of an agent's state, in manifest order.
public enum LayerKind: String, CaseIterable, Codable, Sendable, Comparable, CustomStringConvertible {
    case model, cache, world, effects, trace

    /// The value of `PF_LAYER_*` in the plugin ABI.
    public var abiValue: UInt32 {
        UInt32(Self.allCases.firstIndex(of: self)! + 1)
    }

    /// The kind whose `PF_LAYER_*` value is `abiValue`, or nil for an unknown value.
    public init?(abiValue: UInt32) {
        guard abiValue >= 1, abiValue <= UInt32(Self.allCases.count) else { return nil }
        self = Self.allCases[Int(abiValue) - 1]
    }

    /// The article before the kind in a sentence: "an" effects layer, "a" model layer.
    public var article: String { self == .effects ? "an" : "a" }

    /// The kind's name, as JSON and the CLI spell it. (Declared, so that `"\(kind)"` calls it
    /// directly instead of asking the runtime which protocols the type conforms to: the first such
    /// question for a type scans every conformance record of every loaded image.)
    public var description: String { rawValue }

    public static func < (lhs: LayerKind, rhs: LayerKind) -> Bool { lhs.abiValue < rhs.abiValue }
}
