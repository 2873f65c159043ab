import PFModel
import PFStore
import PFSystem

/// The OCI distribution API for one repository, over one ``HTTPTransport`` (so one thread at a
/// time; make one client per thread, all sharing a ``RegistrySession``).
///
/// Every request goes through ``send(_:_:headers:body:followRedirects:limit:sink:what:)``, which
/// answers authentication challenges (Bearer token flow, Basic) and retries, with backoff, what
/// the registry says to try again (429, 5xx) and connections that fail.
final class RegistryClient {
    let session: RegistrySession
    private let transport: HTTPTransport

    init(session: RegistrySession) throws(RegistryError) {
        self.session = session
        transport = try HTTPTransport(verbose: session.verbose)
    }

    private var registry: String { session.reference.registry }

    // MARK: Requests

    /// Sends one request, authenticating and retrying as needed, and returns the final answer
    /// (any status but 401, 429 and 5xx, which become errors once the retries are spent).
    /// `what` says what the request was for, in errors.
    func send(_ method: String, _ url: String, headers: [String] = [], body: HTTPBody = .none,
              followRedirects: Bool = false, limit: Int = 4 << 20,
              sink: ((UnsafeRawBufferPointer) throws -> Void)? = nil,
              what: @autoclosure () -> String) throws(RegistryError) -> (response: HTTPResponse, body: [UInt8]) {
        var attempt = 0
        var authenticatedFor = -1
        while true {
            let (authorization, generation) = session.authorization.withLock { $0 }
            var all = headers
            // A URL the registry handed back (an upload's Location) may be elsewhere: no credentials there.
            let ownOrigin = session.isOwnOrigin(url)
            if let authorization, ownOrigin { all.append("Authorization: " + authorization) }
            let result: (response: HTTPResponse, body: [UInt8])
            do {
                result = try transport.perform(method, url, headers: all, body: body, followRedirects: followRedirects,
                                               limit: limit, deadline: sink == nil && !body.isFile, sink: sink)
            } catch {
                if let store = error.callbackError as? StoreError { throw .store(store) }
                if let large = error.callbackError as? DocumentTooLarge {
                    throw .protocolViolation(registry: registry, what: what(), reason: "its answer is a document larger than \(large.limit >> 20) MiB (the limit; not retried)")
                }
                if error.badRedirect {
                    throw .protocolViolation(registry: registry, what: what(), reason: "it redirected too many times or to a URL that is not http or https: \(error.message)")
                }
                if error.callbackError is BlobTooLong {
                    throw .protocolViolation(registry: registry, what: what(), reason: "it sent more bytes than the blob's size")
                }
                if let failure = error.callbackError as? SystemCallError {
                    throw .store(.io(step: "reading a blob to send", failure))
                }
                // A registry too slow once is too slow again: one bounded wait, no retry.
                if error.timedOut { throw .unreachable(registry: registry, reason: Self.timeoutText(error.message, what())) }
                if error.tlsFailed {
                    throw .unreachable(registry: registry, reason: "TLS failed: \(error.message)")
                }
                // A body already partly handed to a sink cannot be taken back, and an upload the
                // registry may have partly taken must not be sent blindly again: the caller resumes.
                if !error.connectFailed && (sink != nil || method == "PATCH" || (method == "PUT" && body.count > 0)) {
                    throw .connectionFailed(registry: registry, what: what(), reason: error.message)
                }
                attempt += 1
                guard attempt < session.retryPolicy.attempts else {
                    if error.connectFailed { throw .unreachable(registry: registry, reason: error.message) }
                    throw .connectionFailed(registry: registry, what: what(), reason: error.message)
                }
                session.retryPolicy.wait(after: attempt - 1)
                continue
            }
            let status = result.response.status
            if status == 401 {
                guard ownOrigin else {
                    throw .protocolViolation(registry: registry, what: what(), reason: "\(DisplayText.escaped(Self.originText(url))) (not the registry) asks for credentials; pfhost sends them only to the registry and its token service")
                }
                // One fresh authorization per request: a second 401 means the credentials are refused.
                guard authenticatedFor != generation || generation == 0 && authorization == nil else {
                    throw .authentication(registry: registry, reason: refusal(result))
                }
                try authenticate(result.response, after: generation)
                authenticatedFor = session.authorization.withLock { $0.generation }
                continue
            }
            if status == 429 || (500...599).contains(status) {
                attempt += 1
                guard attempt < session.retryPolicy.attempts else {
                    throw .protocolViolation(registry: registry, what: what(), reason: (["HTTP \(status)", Self.errorText(result.body), "after \(attempt) attempts"].filter { !$0.isEmpty }.joined(separator: " ")))
                }
                session.retryPolicy.wait(after: attempt - 1, retryAfter: result.response.header("retry-after"))
                continue
            }
            return result
        }
    }

    /// What a 401 said, for the error.
    private func refusal(_ result: (response: HTTPResponse, body: [UInt8])) -> String {
        let who = session.credentials.map { "the credentials of '\($0.username)' (from \($0.source)) were refused" }
            ?? "the registry asks for credentials and none were given"
        let text = Self.errorText(result.body)
        return text.isEmpty ? who : who + " (\(text))"
    }

    /// Answers the challenge of a 401: fetches a Bearer token, or uses Basic credentials. Threads
    /// that meet a 401 together fetch one token: whoever finds the generation moved uses the new one.
    private func authenticate(_ response: HTTPResponse, after generation: Int) throws(RegistryError) {
        let current = session.authorization.withLock { $0.generation }
        if current != generation { return }
        let challenges = response.headers("www-authenticate").flatMap(AuthChallenge.parse)
        let value: String
        if let bearer = challenges.first(where: { $0.scheme == "bearer" }) {
            value = "Bearer " + (try fetchToken(bearer))
        } else if challenges.contains(where: { $0.scheme == "basic" }) {
            guard let credentials = session.credentials else {
                throw .authentication(registry: registry, reason: "the registry asks for a user name and password and none were given")
            }
            value = credentials.basicAuthorization
        } else {
            throw .authentication(registry: registry, reason: "HTTP 401 without a Bearer or Basic challenge (WWW-Authenticate: \(DisplayText.escaped(response.header("www-authenticate") ?? "none")))")
        }
        session.authorization.withLock { state in
            if state.generation == generation { state = (value, generation + 1) }
        }
    }

    /// The token flow: `GET realm?service=…&scope=…`, with Basic credentials when there are any.
    private func fetchToken(_ challenge: AuthChallenge) throws(RegistryError) -> String {
        guard let realm = challenge.parameters["realm"].map(DisplayText.escaped),
              realm.hasPrefix("https://") || (session.plainHTTP && realm.hasPrefix("http://")) else {
            throw .authentication(registry: registry, reason: "the token service '\(DisplayText.escaped(challenge.parameters["realm"] ?? ""))' is not an https URL (plain http only with --plain-http)")
        }
        var query: [String] = []
        if let service = challenge.parameters["service"] { query.append("service=" + Self.percentEncoded(service)) }
        var scopes = session.scopes
        if let scope = challenge.parameters["scope"], !scopes.contains(scope) { scopes.append(scope) }
        query += scopes.map { "scope=" + Self.percentEncoded($0) }
        let url = realm + (realm.contains("?") ? "&" : "?") + query.joined(separator: "&")
        var headers: [String] = []
        if let credentials = session.credentials { headers.append("Authorization: " + credentials.basicAuthorization) }
        let result: (response: HTTPResponse, body: [UInt8])
        do {
            result = try transport.perform("GET", url, headers: headers, limit: 1 << 20, deadline: true)
        } catch {
            if let large = error.callbackError as? DocumentTooLarge {
                throw .authentication(registry: registry, reason: "the token service \(realm) answered with more than \(large.limit >> 20) MiB (no token is that long)")
            }
            throw .unreachable(registry: realm, reason: error.timedOut ? Self.timeoutText(error.message, "fetching a token") : error.message)
        }
        guard result.response.status == 200 else {
            throw .authentication(registry: registry, reason: "the token service \(realm) answered HTTP \(result.response.status)"
                + (session.credentials.map { " for '\($0.username)' (from \($0.source))" } ?? " (no credentials were given)"))
        }
        guard let json = try? JSONParser.parse(result.body),
              let token = json["token"]?.stringValue ?? json["access_token"]?.stringValue, !token.isEmpty else {
            throw .authentication(registry: registry, reason: "the token service \(realm) gave no token")
        }
        // It goes into a header line: nothing that could end the line or start another.
        guard token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .authentication(registry: registry, reason: "the token service \(realm) gave a token with spaces, control or non-ASCII characters")
        }
        return token
    }

    // MARK: Blobs

    /// The size of the blob in the repository, or nil when it lacks it (`HEAD`).
    func blobSize(_ digest: Digest) throws(RegistryError) -> Int64? {
        let result = try send("HEAD", session.repositoryURL + "/blobs/" + digest.description, followRedirects: true,
                              what: "checking for blob \(digest)")
        switch result.response.status {
        case 200: return result.response.header("content-length").flatMap { Int64($0) } ?? -1
        case 404: return nil
        default: throw unexpected(result, "checking for blob \(digest)")
        }
    }

    /// Asks the registry to mount `digest` from repository `source` (cross-repository mount).
    /// Returns true when it did; false when it started an ordinary upload instead (which is
    /// abandoned: registries expire it).
    func mount(_ digest: Digest, from source: String) throws(RegistryError) -> Bool {
        let url = session.repositoryURL + "/blobs/uploads/?mount=" + digest.description + "&from=" + Self.percentEncoded(source)
        let result = try send("POST", url, what: "mounting blob \(digest) from \(source)")
        switch result.response.status {
        case 201: return true
        case 202: return false
        default: throw unexpected(result, "mounting blob \(digest) from \(source)")
        }
    }

    /// What an upload did: bytes sent (counting those sent again) and times it resumed.
    struct UploadOutcome {
        var bytesSent: Int64 = 0
        var resumed = 0
    }

    /// Uploads `size` bytes of the open file `fd` as blob `digest`. A blob up to `monolithicLimit`
    /// goes in one `PUT` (after the `POST` that opens the upload); a larger one in `PATCH` chunks of
    /// `chunkSize`, each confirmed by the registry, and after a dropped connection the upload goes on
    /// from the offset the registry reports (`GET` of the upload), or starts over if it forgot it.
    func uploadBlob(_ digest: Digest, size: Int64, fd: Int32, path: String,
                    monolithicLimit: Int64, chunkSize: Int64) throws(RegistryError) -> UploadOutcome {
        var outcome = UploadOutcome()
        var restarts = 0
        let what = "uploading blob \(digest)"
        restart: while true {
            var location = try startUpload(digest)
            if size <= monolithicLimit {
                let result: (response: HTTPResponse, body: [UInt8])
                do {
                    outcome.bytesSent += size
                    result = try send("PUT", Self.appending(digest: digest, to: location),
                                      headers: ["Content-Type: application/octet-stream"],
                                      body: .file(fd: fd, offset: 0, count: size, path: path), what: what)
                } catch {
                    guard case .connectionFailed = error, restarts < session.retryPolicy.attempts else { throw error }
                    restarts += 1
                    outcome.resumed += 1
                    continue restart
                }
                guard result.response.status == 201 else { throw unexpected(result, what) }
                return outcome
            }
            var offset: Int64 = 0
            while offset < size {
                let count = min(chunkSize, size - offset)
                do {
                    outcome.bytesSent += count
                    let result = try sendChunk(location: location, offset: offset, count: count, fd: fd, path: path, what: what)
                    location = result.location
                    offset = result.confirmed
                } catch {
                    guard case .connectionFailed = error, restarts < session.retryPolicy.attempts else { throw error }
                    restarts += 1
                    outcome.resumed += 1
                    // Ask the registry how much it has; start over when it no longer knows the upload.
                    guard let status = try uploadStatus(location, size: size) else { continue restart }
                    location = status.location
                    offset = status.confirmed
                }
            }
            let result = try send("PUT", Self.appending(digest: digest, to: location), what: "finishing the upload of blob \(digest)")
            guard result.response.status == 201 else { throw unexpected(result, "finishing the upload of blob \(digest)") }
            return outcome
        }
    }

    /// `POST /v2/NAME/blobs/uploads/`: the upload's URL.
    private func startUpload(_ digest: Digest) throws(RegistryError) -> String {
        let result = try send("POST", session.repositoryURL + "/blobs/uploads/", what: "starting the upload of blob \(digest)")
        guard result.response.status == 202, let location = result.response.header("location") else {
            throw unexpected(result, "starting the upload of blob \(digest)")
        }
        return resolve(location)
    }

    /// One `PATCH`: returns the next URL and the count of bytes the registry now holds.
    private func sendChunk(location: String, offset: Int64, count: Int64, fd: Int32, path: String,
                           what: String) throws(RegistryError) -> (location: String, confirmed: Int64) {
        let result = try send("PATCH", location, headers: [
            "Content-Type: application/octet-stream", "Content-Range: \(offset)-\(offset + count - 1)",
        ], body: .file(fd: fd, offset: offset, count: count, path: path), what: what)
        guard result.response.status == 202 else { throw unexpected(result, what) }
        let next = result.response.header("location").map(resolve) ?? location
        let confirmed = Self.rangeEnd(result.response.header("range")).map { $0 < Int64.max ? $0 + 1 : -1 } ?? offset + count
        guard confirmed == offset + count else {
            throw .protocolViolation(registry: registry, what: what, reason: "it holds \(confirmed) bytes after a chunk ending at \(offset + count)")
        }
        return (next, confirmed)
    }

    /// `GET` of an upload: where it stands, or nil when the registry no longer has it.
    private func uploadStatus(_ location: String, size: Int64) throws(RegistryError) -> (location: String, confirmed: Int64)? {
        let result = try send("GET", location, what: "asking how much of an upload arrived")
        guard result.response.status == 204 || result.response.status == 200 else { return nil }
        let next = result.response.header("location").map(resolve) ?? location
        // "0-0" is both nothing and one byte; taking it as nothing costs one byte sent again.
        let end = Self.rangeEnd(result.response.header("range")) ?? -1
        // An offset past the blob is a registry confused about this upload: start it over.
        guard end < size else { return nil }
        return (next, end <= 0 ? 0 : end + 1)
    }

    /// Downloads blob `digest` (`GET`, following redirects), handing its bytes to `write` as they
    /// arrive; more than `size` bytes fail the download. After a dropped connection it asks for the
    /// rest (`Range: bytes=N-`), up to the retry policy's attempts; a registry that answers a range
    /// with the whole blob fails it (what was written is discarded by the caller).
    /// Returns the bytes received and the times it resumed.
    func downloadBlob(_ digest: Digest, size: Int64, write: @escaping (UnsafeRawBufferPointer) throws -> Void) throws(RegistryError) -> (bytes: Int64, resumed: Int) {
        var received: Int64 = 0
        var resumed = 0
        let what = "downloading blob \(digest)"
        while true {
            let offsetAtStart = received
            let headers = received > 0 ? ["Range: bytes=\(received)-"] : []
            do throws(RegistryError) {
                let result = try send("GET", session.repositoryURL + "/blobs/" + digest.description, headers: headers,
                                      followRedirects: true, sink: { bytes in
                    let (sum, overflow) = received.addingReportingOverflow(Int64(bytes.count))
                    guard !overflow, sum <= size else { throw BlobTooLong() }
                    try write(bytes)
                    received = sum
                }, what: what)
                switch result.response.status {
                case 200 where offsetAtStart > 0:
                    throw .protocolViolation(registry: registry, what: what, reason: "it answered a range request with the whole blob")
                case 200, 206:
                    guard received == size else {
                        throw .protocolViolation(registry: registry, what: what, reason: "it sent \(received) bytes of a \(size)-byte blob")
                    }
                    return (received, resumed)
                case 404:
                    throw .notFound(registry: registry, what: "blob \(digest) in \(session.reference.repository)")
                default:
                    throw unexpected(result, what)
                }
            } catch {
                guard case .connectionFailed = error, resumed + 1 < session.retryPolicy.attempts else { throw error }
                resumed += 1
                session.retryPolicy.wait(after: resumed - 1)
            }
        }
    }

    /// Thrown by a download's sink when more bytes arrive than the blob's size.
    struct BlobTooLong: Error {}

    // MARK: Manifests

    /// The media types pfhost asks for when reading a manifest.
    static let manifestAccept = "Accept: " + [
        MediaType.ociManifest, MediaType.ociIndex,
        "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json",
    ].joined(separator: ", ")

    /// Reads a manifest by tag or digest: its bytes and media type (at most 4 MiB, the limit
    /// registries themselves apply).
    func manifest(_ reference: String) throws(RegistryError) -> (bytes: [UInt8], mediaType: String?) {
        let what = "reading manifest \(reference)"
        let result = try send("GET", session.repositoryURL + "/manifests/" + reference, headers: [Self.manifestAccept], what: what)
        switch result.response.status {
        case 200: return (result.body, result.response.header("content-type"))
        case 404: throw .notFound(registry: registry, what: "manifest '\(reference)' in \(session.reference.repository)")
        default: throw unexpected(result, what)
        }
    }

    /// Whether the repository has the manifest `digest` (`HEAD`).
    func hasManifest(_ digest: Digest) throws(RegistryError) -> Bool {
        let result = try send("HEAD", session.repositoryURL + "/manifests/" + digest.description, headers: [Self.manifestAccept],
                              what: "checking for manifest \(digest)")
        switch result.response.status {
        case 200: return true
        case 404: return false
        default: throw unexpected(result, "checking for manifest \(digest)")
        }
    }

    /// Writes a manifest under a tag or its digest (`PUT`).
    func putManifest(_ bytes: [UInt8], mediaType: String, reference: String) throws(RegistryError) {
        let what = "writing manifest \(reference)"
        let result = try send("PUT", session.repositoryURL + "/manifests/" + reference,
                              headers: ["Content-Type: " + mediaType], body: .bytes(bytes), what: what)
        guard result.response.status == 201 else { throw unexpected(result, what) }
    }

    // MARK: Helpers

    /// The error for a status the protocol does not allow at this step.
    func unexpected(_ result: (response: HTTPResponse, body: [UInt8]), _ what: String) -> RegistryError {
        let status = result.response.status
        let text = Self.errorText(result.body)
        if status == 403 { return .denied(registry: registry, what: what, reason: text.isEmpty ? "HTTP 403" : text) }
        if status == 401 { return .authentication(registry: registry, reason: text.isEmpty ? "HTTP 401" : text) }
        return .protocolViolation(registry: registry, what: what, reason: "HTTP \(status)" + (text.isEmpty ? "" : ": " + text))
    }

    /// The distribution spec's error body, `{"errors":[{"code":…,"message":…}]}`, as one line.
    static func errorText(_ body: [UInt8]) -> String {
        guard !body.isEmpty, let json = try? JSONParser.parse(body), case .array(let errors)? = json["errors"] else { return "" }
        return errors.compactMap { error -> String? in
            let code = error["code"]?.stringValue ?? ""
            let message = error["message"]?.stringValue ?? ""
            return DisplayText.escaped([code, message].filter { !$0.isEmpty }.joined(separator: ": "))
        }.joined(separator: "; ")
    }

    /// A `Location` made absolute.
    private func resolve(_ location: String) -> String {
        if location.hasPrefix("http://") || location.hasPrefix("https://") { return location }
        return session.origin + (location.hasPrefix("/") ? "" : "/") + location
    }

    /// The reason for a time limit reached, naming pfhost's limits.
    static func timeoutText(_ message: String, _ what: String) -> String {
        "too slow while \(what): \(message) (pfhost gives up under \(HTTPTransport.stallBytesPerSecond) bytes/s for \(HTTPTransport.stallSeconds) s, "
            + "or after \(HTTPTransport.documentDeadlineSeconds) s for a manifest or token)"
    }

    /// The scheme, host and port of `url`, for messages.
    static func originText(_ url: String) -> String {
        RegistrySession.normalizedOrigin(url) ?? url
    }

    /// `location` with `digest=` added to its query.
    static func appending(digest: Digest, to location: String) -> String {
        location + (location.contains("?") ? "&" : "?") + "digest=" + percentEncoded(digest.description)
    }

    /// The last byte of a `Range: 0-N` header.
    static func rangeEnd(_ header: String?) -> Int64? {
        guard let header, let dash = header.lastIndex(of: "-") else { return nil }
        return Int64(header[header.index(after: dash)...])
    }

    /// `text` with everything but unreserved characters percent-encoded (RFC 3986).
    static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let unreserved = (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "~")
            if unreserved {
                out.append(Character(UnicodeScalar(byte)))
            } else {
                let hex = Array("0123456789ABCDEF")
                out += "%" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 15)])
            }
        }
        return out
    }
}
