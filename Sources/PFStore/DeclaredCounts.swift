import PFModel

/// Checks a model layer's files against its blobs (``ModelContent/problems(blobs:)``), and the
/// summary counts a layer declares against the blobs they summarise, where the blob's format makes
/// them checkable: a world tree index (`pfhost-world-tree`) against `entry_count` and
/// `total_bytes`; an NDJSON ledger (`application/x-ndjson`) against `entry_count` and
/// `pending_count` and `head` (the SHA-256 of its last line); an NDJSON trace against
/// `message_count`. A reference plugin's ledger is also held to its status values and hash
/// chain, and its conversation to answering only open tool calls, to its `last_message_id` and
/// to the open calls its annotation names (what a child's capture continues from). A blob of another format (a third-party plugin's) is not judged.
///
/// ```swift
/// var checked = Set<String>()
/// for problem in try DeclaredCounts.problems(in: snapshot.manifest, store: store, checked: &checked) { print(problem.kind, problem.message) }
/// ```
enum DeclaredCounts {
    /// The media type of the reference plugins' ledgers and traces.
    static let lines = "application/x-ndjson"

    /// What a layer of `manifest` declares that its blobs contradict, one message per lie. `checked`
    /// holds what was checked already (a blob and the counts declared for it), so a layer shared by
    /// many snapshots is read once.
    static func problems(in manifest: Manifest, store: SnapshotStore, checked: inout Set<String>) throws(StoreError) -> [(kind: LayerKind, message: String)] {
        var problems: [(kind: LayerKind, message: String)] = []
        func differ(_ kind: LayerKind, _ field: String, declared: Int, actual: Int, _ what: String) {
            // "entries" and "messages" name one as "entry" and "message".
            let noun = actual != 1 ? what : what.hasSuffix("ies") ? String(what.dropLast(3)) + "y" : String(what.dropLast())
            if declared != actual { problems.append((kind, "the layer declares \(field) \(declared), its blob holds \(actual) \(noun)")) }
        }
        let model = manifest.model
        for problem in model.content.problems(blobs: model.blobs) {
            problems.append((.model, problem))
        }
        let world = manifest.world.content.tree
        if checked.insert("world \(world.index) \(world.entryCount) \(world.totalBytes)").inserted, let tree = try worldTree(world.index, store: store) {
            differ(.world, "entry_count", declared: world.entryCount, actual: tree.entries, "entries")
            if let bytes = tree.bytes, bytes != world.totalBytes {
                problems.append((.world, "the layer declares total_bytes \(world.totalBytes), its tree's files hold \(bytes)"))
            }
        }
        problems += cacheTotals(manifest.cache).map { (.cache, $0) }
        let effects = manifest.effects
        // A reference plugin's ledger is judged by its stamp whatever media type the layer gives
        // its blob: the plugin that continues from it reads the stamp, not the media type.
        let referenceLedger = effects.plugin?.id == Self.referenceLedger
        if let listed = effects.blobs.first(where: { $0.digest == effects.content.ledger }), listed.mediaType == lines || referenceLedger,
           checked.insert("effects \(effects.content.ledger) \(effects.content.entryCount) \(effects.content.pendingCount) \(effects.content.head ?? "-")").inserted {
            var ledger = LedgerRules()
            let count = try forEachLine(of: effects.content.ledger, store: store, keeping: LedgerRules.members) { number, digest, entry in ledger.check(number, digest, entry) }
            differ(.effects, "entry_count", declared: effects.content.entryCount, actual: count, "entries")
            if let pending = ledger.pending { differ(.effects, "pending_count", declared: effects.content.pendingCount, actual: pending, "pending entries") }
            if referenceLedger, let broken = ledger.problem { problems.append((.effects, "its ledger \(broken)")) }
            // The head the next capture continues the chain from: the SHA-256 of the last line.
            let head = ledger.previous?.hex
            if effects.content.head != head {
                problems.append((.effects, "the layer declares head \(effects.content.head ?? "null"), the SHA-256 of its ledger's last line is \(head ?? "null (no lines)")"))
            }
        }
        let trace = manifest.trace
        let openCalls = trace.annotations[Self.openCallsAnnotation]
        let referenceConversation = trace.plugin?.id == Self.referenceConversation
        if let listed = trace.blobs.first(where: { $0.digest == trace.content.messages }), listed.mediaType == lines || referenceConversation,
           checked.insert("trace \(trace.content.messages) \(trace.content.messageCount) \(trace.content.lastMessageId ?? "-") \(openCalls ?? "-")").inserted {
            var conversation = ConversationRules()
            let count = try forEachLine(of: trace.content.messages, store: store, keeping: ConversationRules.members) { number, _, message in conversation.check(number, message) }
            differ(.trace, "message_count", declared: trace.content.messageCount, actual: count, "messages")
            if referenceConversation, let broken = conversation.problem {
                problems.append((.trace, "its conversation \(broken)"))
            } else if referenceConversation {
                if conversation.lastID != trace.content.lastMessageId {
                    problems.append((.trace, "the layer declares last_message_id \(trace.content.lastMessageId ?? "null"), its last message's id is \(conversation.lastID ?? "null")"))
                }
                // The calls a child's capture takes as open without reading the conversation again.
                let open = String(decoding: CanonicalJSON.encode(.array(conversation.open.sorted().map(JSONValue.string))), as: UTF8.self)
                if let openCalls, openCalls != open {
                    problems.append((.trace, "the layer's \(Self.openCallsAnnotation) is \(openCalls), its conversation leaves \(open) open"))
                }
            }
        }
        return problems
    }

    /// The entries of a world tree index and the bytes of its files, or nil when the blob is not a
    /// `pfhost-world-tree` index (the bytes nil when a size is missing or the sum overflows).
    private static func worldTree(_ digest: Digest, store: SnapshotStore) throws(StoreError) -> (entries: Int, bytes: Int64?)? {
        let bytes = try store.readBlob(digest)
        guard bytes.first == UInt8(ascii: "{"), let value = try? JSONParser.parse(bytes), value["format"]?.stringValue == "pfhost-world-tree",
              case .array(let entries)? = value["entries"] else { return nil }
        var total: Int64? = 0
        for entry in entries where entry["type"]?.stringValue == "file" {
            guard case .int(let size)? = entry["size"], size >= 0, let sum = total else { total = nil; break }
            let (next, overflow) = sum.addingReportingOverflow(size)
            total = overflow ? nil : next
        }
        return (entries.count, total)
    }

    /// What the reference cache plugin's layer declares against its own lists: `token_count` the
    /// sum of its sequences' tokens, `page_count` the sum of its packs' pages, and each pack blob
    /// `page_count × page_bytes` bytes long (pages side by side). Another plugin's is not judged.
    static func cacheTotals(_ cache: CacheLayer) -> [String] {
        guard cache.plugin?.id == referenceCache else { return [] }
        var problems: [String] = []
        let content = cache.content
        func sum(_ counts: [Int]) -> Int? {
            var total = 0
            for count in counts {
                let (next, overflow) = total.addingReportingOverflow(count)
                if overflow { return nil }
                total = next
            }
            return total
        }
        let tokens = sum(content.sequences.map(\.tokenCount))
        if tokens != content.tokenCount {
            problems.append("the layer declares token_count \(content.tokenCount), its sequences hold \(tokens.map(String.init) ?? "more than 2^63") tokens")
        }
        let pages = sum(content.packs.map(\.pageCount))
        if pages != content.pageCount {
            problems.append("the layer declares page_count \(content.pageCount), its packs hold \(pages.map(String.init) ?? "more than 2^63") pages")
        }
        if let pageBytes = content.pageBytes {
            let sizes = Dictionary(cache.blobs.map { ($0.digest, $0.size) }, uniquingKeysWith: { first, _ in first })
            for pack in content.packs {
                let (expected, overflow) = Int64(pack.pageCount).multipliedReportingOverflow(by: pageBytes)
                if let size = sizes[pack.digest], overflow || size != expected {
                    problems.append("pack \(pack.digest) holds \(size) bytes, not its \(pack.pageCount) pages of \(pageBytes) bytes")
                }
            }
        }
        return problems
    }

    /// The reference cache plugin, whose packs hold whole pages side by side.
    static let referenceCache = "dev.pfhost.cache.paged-kv"

    /// The reference plugins whose formats' rules (a ledger's status and hash chain, a
    /// conversation's tool calls) verify checks; another plugin's NDJSON is only counted.
    static let referenceLedger = "dev.pfhost.effects.ledger", referenceConversation = "dev.pfhost.trace.chat"

    /// The annotation in which the reference trace plugin keeps the calls still open.
    static let openCallsAnnotation = "dev.pfhost.trace.open_tool_calls"

    /// A line of an NDJSON blob as the rules see it.
    enum Line {
        /// A JSON object, read as the plugins read other programs' JSON
        /// (``JSONParser/parse(_:otherPrograms:)``).
        case object([String: JSONValue])
        /// Not a JSON object: why.
        case invalid(String)
    }

    /// Calls `body` with each line of an NDJSON blob (a last one without its newline included): its
    /// 1-based number, the SHA-256 of its bytes (without the newline), and the line read. Returns
    /// the number of lines. Each line is held whole, as the plugin that captured it held it: a line
    /// left unread would be one nothing after it could be judged by.
    private static func forEachLine(of digest: Digest, store: SnapshotStore, keeping: Set<String>,
                                    _ body: (Int, Digest, Line) -> Void) throws(StoreError) -> Int {
        let reader = try store.openBlob(digest)
        var lines = 0
        var line: [UInt8] = []
        var partial = false
        var hasher = SHA256Hasher()
        func gather(_ piece: ArraySlice<UInt8>) {
            partial = true
            hasher.update(piece)
            line += piece
        }
        func finish() {
            lines += 1
            let read: Line
            // As the plugins read a line: a byte-order mark before it is not part of the JSON.
            let bom = line.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
            do throws(JSONParseError) {
                // Only the members the rules read are built: the rest of a line (a message's content,
                // however large) is checked as JSON and not held as values.
                let value = try JSONParser.parse(line.dropFirst(bom), otherPrograms: true, keeping: keeping)
                if case .object(let members) = value { read = .object(members) } else { read = .invalid("it is not a JSON object") }
            } catch {
                // Where the plugins put it: the column, from 1, in bytes of the line as written.
                read = .invalid("invalid JSON at column \(bom + error.offset + 1): \(error.message)")
            }
            body(lines, hasher.finalize(), read)
            hasher = SHA256Hasher()
            line.removeAll(keepingCapacity: line.count <= 1 << 20)
            partial = false
        }
        while let chunk = try reader.read(upTo: 1 << 20) {
            var start = chunk.startIndex
            while let end = chunk[start...].firstIndex(of: 0x0a) {
                gather(chunk[start..<end])
                finish()
                start = end + 1
            }
            if start < chunk.endIndex { gather(chunk[start...]) }
        }
        if partial { finish() }
        return lines
    }
}

/// The rules of a reference ledger (docs/plugins.md, effects) that verify checks, as the plugin
/// does: each line a JSON object with string `id`, `time`, `kind`, `target` and
/// `idempotency_key`, a `status` of `pending`, `committed` or `compensated`, and `prev` the
/// SHA-256 of the line before (null on the first).
struct LedgerRules {
    /// The members of an entry the rules read.
    static let members: Set<String> = ["id", "time", "kind", "target", "idempotency_key", "status", "prev"]
    /// The SHA-256 of the last line: the head.
    private(set) var previous: Digest?
    /// Entries whose status is `pending`; nil once a line was not a JSON object (another plugin's
    /// NDJSON need not be one).
    private(set) var pending: Int? = 0
    /// The first rule broken, as "line N: …".
    private(set) var problem: String?

    mutating func check(_ number: Int, _ digest: Digest, _ line: DeclaredCounts.Line) {
        defer { previous = digest }
        let entry: [String: JSONValue]
        switch line {
        case .invalid(let reason):
            pending = nil
            if problem == nil { problem = "line \(number) is not a ledger entry: \(reason)" }
            return
        case .object(let members):
            entry = members
        }
        let status = entry["status"]?.stringValue
        if status == "pending" { pending? += 1 }
        guard problem == nil else { return }
        if let missing = ["id", "time", "kind", "target", "idempotency_key"].first(where: { entry[$0]?.stringValue == nil }) {
            problem = "line \(number): \(entry[missing] == nil ? "missing" : "non-string") '\(missing)'"
        } else if status != "pending", status != "committed", status != "compensated" {
            let found = status.map { "'\($0)'" } ?? (entry["status"] == nil ? "missing" : "not a string")
            problem = "line \(number): status \(found) is not pending, committed or compensated"
        } else if let previous, entry["prev"] != .string(previous.description) {
            problem = "line \(number): the hash chain is broken: prev is \(entry["prev"]?.stringValue ?? "not a string"), expected \(previous) (the SHA-256 of line \(number - 1))"
        } else if previous == nil, (entry["prev"] ?? .null) != .null {
            problem = "line 1: prev must be null on the first entry"
        }
    }
}

/// The rules of a reference conversation (docs/plugins.md, trace) that verify checks, as the
/// plugin does: each line a JSON object whose `role` is `system`, `user`, `assistant` or `tool`;
/// an assistant's `tool_calls` are objects with an `id`, `type` "function" and `function.name`,
/// none reusing the id of a call still open; a `tool` message's `tool_call_id` answers an open call.
struct ConversationRules {
    /// The members of a message the rules read.
    static let members: Set<String> = ["role", "tool_calls", "tool_call_id", "id"]
    /// The calls made and not answered yet.
    private(set) var open: Set<String> = []
    /// The `id` of the last message.
    private(set) var lastID: String?
    /// The first rule broken, as "line N: …".
    private(set) var problem: String?

    mutating func check(_ number: Int, _ line: DeclaredCounts.Line) {
        guard problem == nil else { return }
        let message: [String: JSONValue]
        switch line {
        case .invalid(let reason):
            problem = "line \(number) is not a message: \(reason)"
            return
        case .object(let members):
            message = members
        }
        lastID = message["id"]?.stringValue
        switch message["role"]?.stringValue {
        case "system", "user":
            break
        case "assistant":
            guard let toolCalls = message["tool_calls"] else { break }
            guard case .array(let calls) = toolCalls else {
                problem = "line \(number): tool_calls is not an array of objects"
                return
            }
            for call in calls {
                guard let id = call["id"]?.stringValue, call["type"]?.stringValue == "function", call["function"]?["name"]?.stringValue != nil else {
                    problem = "line \(number): a tool call needs an id, type \"function\" and function.name"
                    return
                }
                guard open.insert(id).inserted else {
                    problem = "line \(number): tool call id '\(id)' is already in use by an unanswered call"
                    return
                }
            }
        case "tool":
            guard let answered = message["tool_call_id"]?.stringValue else {
                problem = "line \(number): \(message["tool_call_id"] == nil ? "missing" : "non-string") 'tool_call_id'"
                return
            }
            if open.remove(answered) == nil {
                problem = "line \(number): tool message answers '\(answered)', which is not an open call (none made earlier, or already answered)"
            }
        case let role:
            problem = "line \(number): \(role.map { "unknown role '\($0)'" } ?? "missing 'role'") (system, user, assistant or tool)"
        }
    }
}
