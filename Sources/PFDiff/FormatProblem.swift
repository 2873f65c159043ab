/// Why a blob that hashes correctly could not be read as the format `diff` expected (a plugin of
/// another kind wrote it): the comparison notes it and goes on without that detail.
struct FormatProblem: Error {
    var reason: String

    init(_ reason: String) {
        self.reason = reason
    }
}
