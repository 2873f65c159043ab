/// What differs between two keyed collections: the items only in the second (`added`), only in
/// the first (`removed`), and in both but different (`changed`), each in the order of their keys.
///
/// ```swift
/// let files = Changes(from: ["a": 1, "b": 2], to: ["b": 3, "c": 4], order: <)
/// // files.added == [4], files.removed == [1], files.changed == [Change(from: 2, to: 3)]
/// ```
public struct Changes<Item: Sendable>: Sendable {
    /// Items only in the second snapshot.
    public var added: [Item]
    /// Items only in the first snapshot.
    public var removed: [Item]
    /// Items in both whose values differ.
    public var changed: [Change<Item>]

    /// No change at all.
    public init() {
        added = []
        removed = []
        changed = []
    }

    /// Compares `old` and `new` by key; `same` says when an item present in both is unchanged.
    public init<Key: Hashable>(from old: [Key: Item], to new: [Key: Item], order: (Key, Key) -> Bool,
                               same: (Item, Item) -> Bool) {
        self.init()
        for key in new.keys.filter({ old[$0] == nil }).sorted(by: order) { added.append(new[key]!) }
        for key in old.keys.filter({ new[$0] == nil }).sorted(by: order) { removed.append(old[key]!) }
        for key in old.keys.filter({ new[$0] != nil }).sorted(by: order) {
            let (before, after) = (old[key]!, new[key]!)
            if !same(before, after) { changed.append(Change(from: before, to: after)) }
        }
    }

    /// Whether nothing was added, removed or changed.
    public var isEmpty: Bool { added.isEmpty && removed.isEmpty && changed.isEmpty }
}

extension Changes where Item: Equatable {
    /// Compares `old` and `new` by key, items equal by `==` being unchanged.
    public init<Key: Hashable>(from old: [Key: Item], to new: [Key: Item], order: (Key, Key) -> Bool) {
        self.init(from: old, to: new, order: order, same: ==)
    }
}
