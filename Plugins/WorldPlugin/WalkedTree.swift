/// The entries a ``TreeWalker`` found, in depth-first order with siblings in byte order of their
/// names, read from the directories' listings as they are iterated (never copied into one array).
struct WalkedTree: Sequence {
    /// One directory's entries in byte order of names, and for each subdirectory the number of
    /// the listing of its own entries.
    struct Listing: Sendable {
        var entries: [TreeEntry] = []
        var children: [Int?] = []
    }

    /// Every directory's listing; the root's is the first.
    let listings: [Listing]
    /// The number of entries.
    let count: Int

    init(listings: [Listing]) {
        self.listings = listings
        count = listings.reduce(0) { $0 + $1.entries.count }
    }

    func makeIterator() -> Iterator { Iterator(listings: listings) }

    /// Walks the listings depth first: an entry, then the subtree under it, then its next sibling.
    struct Iterator: IteratorProtocol {
        let listings: [Listing]
        /// The listings from the root down to the current directory, each with its next entry.
        var path: [(listing: Int, next: Int)]

        init(listings: [Listing]) {
            self.listings = listings
            path = listings.isEmpty ? [] : [(0, 0)]
        }

        mutating func next() -> TreeEntry? {
            while let (listing, next) = path.last {
                guard next < listings[listing].entries.count else {
                    path.removeLast()
                    continue
                }
                path[path.count - 1].next += 1
                if let child = listings[listing].children[next] { path.append((child, 0)) }
                return listings[listing].entries[next]
            }
            return nil
        }
    }
}
