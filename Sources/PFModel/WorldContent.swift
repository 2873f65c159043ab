/// What a world layer records: the agent's filesystem tree, environment, processes and
/// browser DOM.
public struct WorldContent: LayerContent {
    public static let kind = LayerKind.world

    /// The captured directory, as configured.
    public var root: String
    /// The filesystem tree under `root`.
    public var tree: WorldTree
    /// The environment (secret-looking values replaced by a marker); nil when not captured.
    public var env: [String: String]?
    /// The captured process tree; nil when not captured.
    public var processes: [WorldProcess]?
    /// The browser DOM saved by the agent; nil when not captured.
    public var dom: WorldDOM?

    /// A world layer's content.
    public init(root: String, tree: WorldTree, env: [String: String]? = nil,
                processes: [WorldProcess]? = nil, dom: WorldDOM? = nil) {
        self.root = root
        self.tree = tree
        self.env = env
        self.processes = processes
        self.dom = dom
    }
}

extension WorldContent {
    /// The blobs the content refers to: the tree's index and packs, and the DOM. (The environment,
    /// the processes and the root are the agent's text: they may hold anything, digests included.)
    public var blobReferences: [Digest] { [tree.index] + (tree.packs ?? []).map(\.digest) + (dom.map { [$0.digest] } ?? []) }
}
