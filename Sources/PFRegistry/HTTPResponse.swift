/// A response's status and headers; its body went to the request's sink.
struct HTTPResponse: Sendable {
    /// The HTTP status code.
    var status: Int
    /// Header lines of the final response (after redirects), names lowercased, in order.
    var headers: [(name: String, value: String)]

    /// The first header called `name` (lowercase), if any.
    func header(_ name: String) -> String? {
        headers.first { $0.name == name }?.value
    }

    /// Every header called `name` (lowercase).
    func headers(_ name: String) -> [String] {
        headers.filter { $0.name == name }.map(\.value)
    }
}
