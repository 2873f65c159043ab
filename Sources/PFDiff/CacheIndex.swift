import PFModel

/// What `diff` reads of a KV-cache index blob (docs/kv-cache-dump.md): every page's key, and each
/// sequence's page keys.
struct CacheIndex {
    var pages: Set<String>
    var sequences: [String: [String]]

    /// Reads `value`, or says what is wrong with it.
    init(_ value: JSONValue) throws(FormatProblem) {
        guard value["format"]?.stringValue == "pfhost-kv-index", value["version"] == .int(1) else {
            throw FormatProblem("not a pfhost-kv-index of version 1")
        }
        guard case .array(let pages)? = value["pages"], case .array(let sequences)? = value["sequences"] else {
            throw FormatProblem("no pages or sequences")
        }
        self.pages = []
        for page in pages {
            guard let key = page["key"]?.stringValue else { throw FormatProblem("a page without a key") }
            self.pages.insert(key)
        }
        self.sequences = [:]
        for sequence in sequences {
            guard let id = sequence["id"]?.stringValue, case .array(let keys)? = sequence["pages"] else {
                throw FormatProblem("a sequence without an id or pages")
            }
            var pageKeys: [String] = []
            for key in keys {
                guard let text = key.stringValue else { throw FormatProblem("sequence '\(id)' has a page key that is not a string") }
                pageKeys.append(text)
            }
            guard self.sequences.updateValue(pageKeys, forKey: id) == nil else { throw FormatProblem("sequence '\(id)' is listed twice") }
        }
    }
}
