import PFModel

/// Checks JSON against the JSON Schemas pfhost publishes in `plugin-sdk/schema/` (draft 2020-12),
/// so that what the host accepts and what the schema says are one thing.
///
/// It implements the subset of draft 2020-12 those schemas use, with the standard's meaning:
/// `$ref` (within a document and to another one by file name, e.g. `common.schema.json#/$defs/digest`),
/// `type`, `const`, `enum`, `required`, `properties`, `additionalProperties`, `unevaluatedProperties`,
/// `items`, `minItems`, `maxItems`, `minimum`, `maximum`, `minLength`, `maxLength`, `pattern`
/// (searched, not anchored, as the standard says), `allOf`, `anyOf`, `oneOf`, `not` and
/// `if`/`then`/`else`; `$schema`, `$id`, `$defs`, `title`, `description` and `format` are annotations.
/// A schema using any other keyword is refused when the validator is made
/// (``SchemaViolation/unsupportedKeyword(_:document:)``), so a schema can never say more than the
/// host enforces. `PluginSchemaTests` checks its verdicts against python3's `jsonschema` on the
/// same documents.
///
/// ```swift
/// let validator = try JSONSchemaValidator(documents: PublishedSchemas.documents)
/// try validator.validate(layer, against: "layer-trace.schema.json")
/// ```
public struct JSONSchemaValidator: Sendable {
    /// The schema documents, by file name.
    let documents: [String: JSONValue]
    /// Every `pattern` of the documents, compiled for ``SchemaPattern``'s fast path.
    let fastPatterns: [String: SchemaPattern]

    /// The keywords this validator evaluates or ignores as annotations.
    static let keywords: Set<String> = [
        "$ref", "type", "const", "enum", "required", "properties", "additionalProperties", "unevaluatedProperties",
        "items", "minItems", "maxItems", "minimum", "maximum", "minLength", "maxLength", "pattern", "allOf", "anyOf",
        "oneOf", "not", "if", "then", "else", "$schema", "$id", "$defs", "title", "description", "format",
    ]

    /// Parses the documents (file name → JSON text) and checks that they use only known keywords.
    public init(documents: [String: String]) throws(SchemaViolation) {
        var parsed: [String: JSONValue] = [:]
        for (name, text) in documents {
            do { parsed[name] = try JSONParser.parse(Array(text.utf8)) } catch {
                throw .unreadableSchema(document: name, reason: "\(error)")
            }
        }
        self.documents = parsed
        var patterns: [String: SchemaPattern] = [:]
        for (name, document) in parsed { try Self.checkKeywords(document, document: name, patterns: &patterns) }
        fastPatterns = patterns.filter(\.value.isFast)
    }

    /// Checks `value` against the document `schema` (a file name such as `layer-world.schema.json`).
    ///
    /// - Throws: ``SchemaViolation/invalid(pointer:message:)`` for the first place that breaks it.
    public func validate(_ value: JSONValue, against schema: String) throws(SchemaViolation) {
        guard let document = documents[schema] else { throw .unreadableSchema(document: schema, reason: "no such schema") }
        var patterns = PatternCache(fast: fastPatterns)
        var path = Path()
        _ = try check(value, document, in: schema, at: &path, patterns: &patterns)
    }

    /// Every keyword of every schema object below `schema` must be known; collects the patterns.
    private static func checkKeywords(_ schema: JSONValue, document: String,
                                      patterns: inout [String: SchemaPattern]) throws(SchemaViolation) {
        guard let members = schema.objectValue else { return }
        for (keyword, value) in members {
            guard keywords.contains(keyword) else { throw .unsupportedKeyword(keyword, document: document) }
            switch keyword {
            case "properties", "$defs":
                for sub in value.objectValue?.values.map({ $0 }) ?? [] { try checkKeywords(sub, document: document, patterns: &patterns) }
            case "allOf", "anyOf", "oneOf":
                if case .array(let items) = value { for sub in items { try checkKeywords(sub, document: document, patterns: &patterns) } }
            case "items", "additionalProperties", "unevaluatedProperties", "not", "if", "then", "else":
                try checkKeywords(value, document: document, patterns: &patterns)
            case "pattern":
                if let source = value.stringValue { patterns[source] = SchemaPattern(source) }
            default: break
            }
        }
    }

    /// Where in the value a check is: the JSON Pointer's tokens, rendered only for a message.
    private struct Path {
        enum Token { case name(String), index(Int) }
        var tokens: [Token] = []

        /// The JSON Pointer (RFC 6901), empty for the whole document.
        var pointer: String {
            tokens.map { token in
                switch token {
                case .name(let name): "/" + JSONSchemaValidator.escape(name)
                case .index(let index): "/\(index)"
                }
            }.joined()
        }
    }

    /// A `$ref` as written in a document.
    private struct ReferenceKey: Hashable {
        var document: String
        var reference: String
    }

    /// Compiled patterns and resolved `$ref`s of one validation.
    private struct PatternCache {
        let fast: [String: SchemaPattern]
        var compiled: [String: Regex<AnyRegexOutput>] = [:]
        var references: [ReferenceKey: (schema: JSONValue, document: String)] = [:]

        init(fast: [String: SchemaPattern]) { self.fast = fast }

        mutating func matches(_ pattern: String, _ text: String) throws(SchemaViolation) -> Bool {
            if let verdict = fast[pattern]?.fastMatch(text) { return verdict }
            if compiled[pattern] == nil {
                do { compiled[pattern] = try Regex(pattern) } catch {
                    throw .unreadableSchema(document: "pattern \(pattern)", reason: "\(error)")
                }
            }
            return (try? compiled[pattern]!.firstMatch(in: text)) != nil
        }
    }

    /// Checks `value` against `schema` (found in `document`), returning the names of the object
    /// members this schema and its successful subschemas evaluated (for `unevaluatedProperties`).
    private func check(_ value: JSONValue, _ schema: JSONValue, in document: String, at path: inout Path,
                       patterns: inout PatternCache) throws(SchemaViolation) -> Set<String> {
        if case .bool(let accepted) = schema {
            guard accepted else { throw .invalid(pointer: path.pointer, message: "is not allowed here") }
            return []
        }
        guard let keywords = schema.objectValue else { return [] }
        var evaluated = Set<String>()
        if case .string(let reference)? = keywords["$ref"] {
            let cacheKey = ReferenceKey(document: document, reference: reference)
            let resolved: (schema: JSONValue, document: String)
            if let known = patterns.references[cacheKey] { resolved = known } else {
                resolved = try resolve(reference, from: document)
                patterns.references[cacheKey] = resolved
            }
            let (target, targetDocument) = resolved
            evaluated.formUnion(try check(value, target, in: targetDocument, at: &path, patterns: &patterns))
        }
        if let type = keywords["type"] { try checkType(value, type, at: path) }
        if let constant = keywords["const"], constant != value {
            throw .invalid(pointer: path.pointer, message: "must be \(Self.show(constant)), not \(Self.show(value))")
        }
        if case .array(let options)? = keywords["enum"], !options.contains(value) {
            throw .invalid(pointer: path.pointer, message: "must be one of \(options.map(Self.show).joined(separator: ", ")), not \(Self.show(value))")
        }
        switch value {
        case .string(let text):
            let length = text.unicodeScalars.count
            if case .int(let minimum)? = keywords["minLength"], length < minimum {
                throw .invalid(pointer: path.pointer, message: "must be at least \(minimum) characters long")
            }
            if case .int(let maximum)? = keywords["maxLength"], length > maximum {
                throw .invalid(pointer: path.pointer, message: "must be at most \(maximum) characters long")
            }
            if case .string(let pattern)? = keywords["pattern"], !(try patterns.matches(pattern, text)) {
                throw .invalid(pointer: path.pointer, message: "\(Self.show(value)) does not match \(pattern)")
            }
        case .int(let number):
            if case .int(let minimum)? = keywords["minimum"], number < minimum {
                throw .invalid(pointer: path.pointer, message: "must be at least \(minimum), not \(number)")
            }
            if case .int(let maximum)? = keywords["maximum"], number > maximum {
                throw .invalid(pointer: path.pointer, message: "must be at most \(maximum), not \(number)")
            }
        case .array(let items):
            if case .int(let minimum)? = keywords["minItems"], items.count < minimum {
                throw .invalid(pointer: path.pointer, message: "must have at least \(minimum) items, not \(items.count)")
            }
            if case .int(let maximum)? = keywords["maxItems"], items.count > maximum {
                throw .invalid(pointer: path.pointer, message: "must have at most \(maximum) items, not \(items.count)")
            }
            if let itemSchema = keywords["items"] {
                for (index, item) in items.enumerated() {
                    path.tokens.append(.index(index))
                    _ = try check(item, itemSchema, in: document, at: &path, patterns: &patterns)
                    path.tokens.removeLast()
                }
            }
        case .object(let members):
            if case .array(let required)? = keywords["required"] {
                for case .string(let name) in required where members[name] == nil {
                    throw .invalid(pointer: path.pointer, message: "has no \"\(name)\", which is required")
                }
            }
            let properties = keywords["properties"]?.objectValue ?? [:]
            for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                path.tokens.append(.name(name))
                if let propertySchema = properties[name] {
                    _ = try check(member, propertySchema, in: document, at: &path, patterns: &patterns)
                    evaluated.insert(name)
                } else if let additional = keywords["additionalProperties"] {
                    if additional == .bool(false) { throw .invalid(pointer: path.pointer, message: "is not a field of this object (unknown fields are refused)") }
                    _ = try check(member, additional, in: document, at: &path, patterns: &patterns)
                    evaluated.insert(name)
                }
                path.tokens.removeLast()
            }
        default:
            break
        }
        if case .array(let all)? = keywords["allOf"] {
            for sub in all { evaluated.formUnion(try check(value, sub, in: document, at: &path, patterns: &patterns)) }
        }
        // A subschema that throws leaves the tokens it pushed: those caught below are cut back to here.
        let depth = path.tokens.count
        if case .array(let any)? = keywords["anyOf"] {
            var passed = false, first: SchemaViolation?
            for sub in any {
                do {
                    evaluated.formUnion(try check(value, sub, in: document, at: &path, patterns: &patterns))
                    passed = true
                } catch {
                    first = first ?? error
                    path.tokens.removeSubrange(depth...)
                }
            }
            if !passed { throw .invalid(pointer: path.pointer, message: "matches none of the allowed forms (first: \(first.map { "\($0)" } ?? "none"))") }
        }
        if case .array(let one)? = keywords["oneOf"] {
            var passing = 0, first: SchemaViolation?
            for sub in one {
                do {
                    evaluated.formUnion(try check(value, sub, in: document, at: &path, patterns: &patterns))
                    passing += 1
                } catch {
                    first = first ?? error
                    path.tokens.removeSubrange(depth...)
                }
            }
            if passing != 1 {
                throw .invalid(pointer: path.pointer, message: passing == 0
                    ? "matches none of the allowed forms (first: \(first.map { "\($0)" } ?? "none"))"
                    : "matches \(passing) of the forms, where exactly one is allowed")
            }
        }
        if let not = keywords["not"] {
            let matched: Bool
            do { _ = try check(value, not, in: document, at: &path, patterns: &patterns); matched = true } catch {
                matched = false
                path.tokens.removeSubrange(depth...)
            }
            if matched { throw .invalid(pointer: path.pointer, message: "has a form that is not allowed: \(Self.show(not))") }
        }
        if let condition = keywords["if"] {
            let holds: Bool
            do {
                evaluated.formUnion(try check(value, condition, in: document, at: &path, patterns: &patterns))
                holds = true
            } catch {
                holds = false
                path.tokens.removeSubrange(depth...)
            }
            if let branch = holds ? keywords["then"] : keywords["else"] {
                evaluated.formUnion(try check(value, branch, in: document, at: &path, patterns: &patterns))
            }
        }
        if let unevaluated = keywords["unevaluatedProperties"], case .object(let members) = value {
            for (name, member) in members.sorted(by: { $0.key < $1.key }) where !evaluated.contains(name) {
                path.tokens.append(.name(name))
                if unevaluated == .bool(false) { throw .invalid(pointer: path.pointer, message: "is not a field of this object (unknown fields are refused)") }
                _ = try check(member, unevaluated, in: document, at: &path, patterns: &patterns)
                evaluated.insert(name)
                path.tokens.removeLast()
            }
        }
        return evaluated
    }

    private func checkType(_ value: JSONValue, _ type: JSONValue, at path: Path) throws(SchemaViolation) {
        let names: [String]
        switch type {
        case .string(let name): names = [name]
        case .array(let items): names = items.compactMap(\.stringValue)
        default: return
        }
        let actual: String = switch value {
        case .null: "null"
        case .bool: "boolean"
        case .int: "integer"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
        // JSONValue has integers only (pfhost refuses floating point), and an integer is a number.
        guard names.contains(actual) || (actual == "integer" && names.contains("number")) else {
            throw .invalid(pointer: path.pointer, message: "must be \(names.joined(separator: " or ")), not \(actual)")
        }
    }

    /// The schema a `$ref` leads to, and the document it is in.
    private func resolve(_ reference: String, from document: String) throws(SchemaViolation) -> (JSONValue, String) {
        let parts = reference.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
        let name = parts[0].isEmpty ? document : String(parts[0])
        guard var target = documents[name] else { throw .unreadableSchema(document: document, reason: "$ref \(reference): no such document") }
        let fragment = parts.count > 1 ? parts[1] : ""
        for token in fragment.split(separator: "/") {
            let key = token.contains("~") ? String(token).replacing("~1", with: "/").replacing("~0", with: "~") : String(token)
            guard let next = target.objectValue?[key] else {
                throw .unreadableSchema(document: document, reason: "$ref \(reference) leads nowhere")
            }
            target = next
        }
        return (target, name)
    }

    /// A JSON Pointer token.
    fileprivate static func escape(_ name: String) -> String {
        guard name.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return name }
        return name.replacing("~", with: "~0").replacing("/", with: "~1")
    }

    /// A value as compact JSON, shortened for a message.
    static func show(_ value: JSONValue) -> String {
        let text = String(decoding: CanonicalJSON.encode(value), as: UTF8.self)
        return text.count > 80 ? String(text.prefix(77)) + "…" : DisplayText.escaped(text)
    }
}
