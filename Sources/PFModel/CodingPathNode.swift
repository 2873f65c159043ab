/// A coding path kept as a linked list and turned into an array only when asked for (in errors):
/// building an array for every key would dominate coding a large manifest. Shared by
/// ``JSONValueEncoder`` and ``JSONValueDecoder``.
final class CodingPathNode {
    let parent: CodingPathNode?
    let key: any CodingKey

    init(parent: CodingPathNode?, key: any CodingKey) {
        self.parent = parent
        self.key = key
    }

    /// The keys from the root to `path`.
    static func array(_ path: CodingPathNode?) -> [any CodingKey] {
        var keys: [any CodingKey] = []
        var node = path
        while let current = node {
            keys.append(current.key)
            node = current.parent
        }
        return keys.reversed()
    }
}
