import CPFCurl
import PFSystem
#if canImport(Glibc)
import Glibc
#endif

/// One HTTP connection cache over libcurl (`Sources/CPFCurl`), used by one thread at a time.
///
/// libcurl is loaded with `dlopen("libcurl.so.4")` when the first transport is made, so commands
/// that never reach a registry never map it. The handle keeps its connections alive between
/// requests (HTTP/1.1 keep-alive), so the HEADs, uploads and manifest writes of a push share one
/// TCP (and TLS) connection per transport.
final class HTTPTransport {
    private let handle: OpaquePointer
    private let system = SystemCalls()
    /// `--verbose`: libcurl's trace on stderr.
    let verbose: Bool
    /// `SSL_CERT_FILE`: the CAs to trust instead of the system's (a registry with a private CA).
    private let caFile = SystemCalls.environment("SSL_CERT_FILE")

    /// A transport, or ``RegistryError/transportUnavailable(_:)`` when libcurl cannot be loaded.
    init(verbose: Bool = false) throws(RegistryError) {
        var message = [CChar](repeating: 0, count: 512)
        guard pf_http_load(&message, message.count) == 1 else {
            throw .transportUnavailable(String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        guard let handle = pf_http_new() else { throw .transportUnavailable("curl_easy_init failed (out of memory?)") }
        self.handle = handle
        self.verbose = verbose
    }

    deinit { pf_http_free(handle) }

    /// A transfer under this many bytes a second for ``stallSeconds`` fails (a stalled or trickling registry).
    static let stallBytesPerSecond = 1024
    /// See ``stallBytesPerSecond``.
    static let stallSeconds = 30
    /// The longest a small document (a manifest, a token, a HEAD, an upload's start) may take in all.
    static let documentDeadlineSeconds = 60

    /// A failure before any HTTP status: the connection could not be made or broke.
    struct Failure: Error {
        /// libcurl's code.
        var code: Int32
        /// libcurl's message.
        var message: String
        /// Whether no connection was made at all (refused, unresolved, timed out).
        var connectFailed: Bool
        /// Whether a time limit ran out (connect timeout, low-speed limit, deadline).
        var timedOut = false
        /// Whether a redirect went nowhere pfhost follows (too many, or not to http/https).
        var badRedirect = false
        /// Whether the TLS handshake or the certificate check failed.
        var tlsFailed = false
        /// What the body source or sink reported when it aborted the transfer, if it did.
        var callbackError: (any Error)?
    }

    /// Runs one request. The response body goes to `sink` piece by piece (return false to abort);
    /// without a sink it is collected and returned, up to `limit` bytes (more aborts the transfer).
    /// With `deadline`, the whole request fails after ``documentDeadlineSeconds``.
    func perform(_ method: String, _ url: String, headers: [String], body: HTTPBody = .none,
                 followRedirects: Bool = false, limit: Int = 4 << 20, deadline: Bool = false,
                 sink: ((UnsafeRawBufferPointer) throws -> Void)? = nil) throws(Failure) -> (response: HTTPResponse, body: [UInt8]) {
        let context = Context(body: body, sink: sink, limit: limit, system: system)
        var status = 0
        var error = [CChar](repeating: 0, count: 512)
        let code: Int32 = method.withCString { methodText in
            url.withCString { urlText in
                withCStrings(headers) { headerTexts in
                    headerTexts.withUnsafeBufferPointer { headerBuffer in
                        var request = pf_http_request()
                        request.method = methodText
                        request.url = urlText
                        request.headers = UnsafePointer(headerBuffer.baseAddress)
                        request.header_count = headerBuffer.count
                        if case .none = body {} else {
                            request.body = { context, buffer, size in
                                Unmanaged<Context>.fromOpaque(context!).takeUnretainedValue().fill(buffer!, size)
                            }
                            request.body_size = body.count
                        }
                        request.sink = { context, data, size in
                            Unmanaged<Context>.fromOpaque(context!).takeUnretainedValue().take(data!, size)
                        }
                        request.header_sink = { context, line, size in
                            Unmanaged<Context>.fromOpaque(context!).takeUnretainedValue().header(line!, size)
                        }
                        request.context = Unmanaged.passUnretained(context).toOpaque()
                        request.connect_timeout_seconds = 10
                        request.stall_seconds = Self.stallSeconds
                        request.stall_bytes_per_second = Self.stallBytesPerSecond
                        request.deadline_seconds = deadline ? Self.documentDeadlineSeconds : 0
                        request.follow_redirects = followRedirects ? 1 : 0
                        request.verbose = verbose ? 1 : 0
                        var answer = 0
                        return withOptionalCString(caFile) { caText in
                            request.ca_file = caText
                            let code = pf_http_perform(handle, &request, &answer, &error, error.count)
                            status = answer
                            return code
                        }
                    }
                }
            }
        }
        guard code == 0 else {
            let message = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw Failure(code: code, message: message, connectFailed: pf_http_is_connect_failure(code) == 1, timedOut: pf_http_is_timeout(code) == 1, badRedirect: pf_http_is_bad_redirect(code) == 1,
                          tlsFailed: pf_http_is_tls_failure(code) == 1, callbackError: context.failure)
        }
        return (HTTPResponse(status: status, headers: context.headers), context.collected)
    }

    /// The state of one request's callbacks.
    private final class Context {
        let body: HTTPBody
        var sent: Int64 = 0
        let sink: ((UnsafeRawBufferPointer) throws -> Void)?
        let limit: Int
        let system: SystemCalls
        var collected: [UInt8] = []
        var headers: [(name: String, value: String)] = []
        var failure: (any Error)?
        /// The status of the response being received, from its status line.
        var status = 0

        init(body: HTTPBody, sink: ((UnsafeRawBufferPointer) throws -> Void)?, limit: Int, system: SystemCalls) {
            self.body = body
            self.sink = sink
            self.limit = limit
            self.system = system
        }

        func fill(_ buffer: UnsafeMutablePointer<CChar>, _ size: Int) -> Int {
            switch body {
            case .none:
                return 0
            case .bytes(let bytes):
                let start = Int(sent)
                let count = min(size, bytes.count - start)
                guard count > 0 else { return 0 }
                bytes.withUnsafeBytes { UnsafeMutableRawPointer(buffer).copyMemory(from: $0.baseAddress! + start, byteCount: count) }
                sent += Int64(count)
                return count
            case .file(let fd, let offset, let count, let path):
                let wanted = Int(min(Int64(size), count - sent))
                guard wanted > 0 else { return 0 }
                do {
                    let got = try system.read(fd, into: buffer, count: wanted, at: offset + sent, path: path)
                    // The file ending early would send fewer bytes than Content-Length promised.
                    guard got > 0 else { throw SystemCallError(operation: "read", path: path + " (it ended early)", code: EIO) }
                    sent += Int64(got)
                    return got
                } catch {
                    failure = error
                    return -1
                }
            }
        }

        func take(_ data: UnsafePointer<CChar>, _ size: Int) -> Int {
            let bytes = UnsafeRawBufferPointer(start: data, count: size)
            // Only a success's body is content; an error's (JSON) is kept for its message.
            if let sink, (200..<300).contains(status) {
                do { try sink(bytes) } catch {
                    failure = error
                    return 0
                }
                return size
            }
            guard collected.count + size <= limit else {
                failure = DocumentTooLarge(limit: limit)
                return 0
            }
            collected.append(contentsOf: bytes)
            return size
        }

        func header(_ line: UnsafePointer<CChar>, _ size: Int) {
            let text = String(decoding: UnsafeRawBufferPointer(start: line, count: size), as: UTF8.self)
            // A status line starts the headers of a new response (a redirect, a 100 Continue).
            if text.hasPrefix("HTTP/") {
                let fields = text.split(separator: " ")
                status = fields.count > 1 ? Int(fields[1]) ?? 0 : 0
                headers = []
                collected = []
                return
            }
            guard let colon = text.firstIndex(of: ":") else { return }
            let name = text[..<colon].lowercased()
            let value = text[text.index(after: colon)...].trimmingCharacters(in: " \t")
            headers.append((name, value))
        }
    }
}

/// A response body over the limit of what is collected in memory (a manifest, a token, an error).
struct DocumentTooLarge: Error {
    /// The limit, in bytes.
    var limit: Int
}

/// Calls `body` with `text` as a C string, or NULL.
private func withOptionalCString<T>(_ text: String?, _ body: (UnsafePointer<CChar>?) -> T) -> T {
    guard let text else { return body(nil) }
    return text.withCString { body($0) }
}

/// Calls `body` with NUL-terminated copies of `strings`, freed afterwards.
private func withCStrings<T>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> T) -> T {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    return body(copies.map { UnsafePointer($0) })
}

extension StringProtocol {
    /// The text without `characters` at either end.
    func trimmingCharacters(in characters: String) -> String {
        var slice = Substring(self)
        while let first = slice.first, characters.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, characters.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
