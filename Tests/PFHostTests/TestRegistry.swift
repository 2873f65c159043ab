import Foundation

/// A real registry for a test: Debian's `docker-registry` (distribution 2.8) on 127.0.0.1 on a free
/// port, storing under a temporary directory, optionally behind htpasswd Basic auth, stopped when
/// released.
final class TestRegistry {
    let dir = TemporaryDirectory()
    let port: Int
    /// `127.0.0.1:PORT`.
    var host: String { "127.0.0.1:\(port)" }

    static let executable = "/usr/bin/docker-registry"

    /// The CA that signed the registry's certificate, with `tls` (trust it with `SSL_CERT_FILE`).
    var caFile: String { dir.file("ca.pem") }

    /// Starts a registry; with `user`, only that user with `password` may use it (Basic auth); with
    /// `tls`, it speaks HTTPS with a certificate for 127.0.0.1 from a CA of its own (``caFile``).
    init(user: (name: String, password: String)? = nil, tls: Bool = false) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw SetupFailure("docker-registry is not installed: run scripts/install-deps test (as root) before swift test")
        }
        var auth = ""
        if let user {
            let htpasswd = try run("/usr/bin/htpasswd", ["-Bbn", user.name, user.password])
            guard htpasswd.status == 0 else { throw SetupFailure("htpasswd failed: \(htpasswd)") }
            try Data(htpasswd.stdout.utf8).write(to: URL(fileURLWithPath: dir.file("htpasswd")))
            auth = "auth:\n  htpasswd:\n    realm: pfhost-test\n    path: \(dir.file("htpasswd"))\n"
        }
        var tlsConfig = ""
        if tls {
            let script = """
                set -e
                cd "$0"
                openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=pfhost-test-ca 2>/dev/null
                openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout key.pem -out server.csr -subj /CN=127.0.0.1 2>/dev/null
                printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext
                openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cert.pem -days 2 -extfile san.ext 2>/dev/null
                """
            let made = try run("/bin/sh", ["-c", script, dir.path])
            guard made.status == 0 else { throw SetupFailure("openssl failed: \(made)") }
            tlsConfig = "  tls:\n    certificate: \(dir.file("cert.pem"))\n    key: \(dir.file("key.pem"))\n"
        }
        var lastError = ""
        for _ in 0..<5 {
            let port = try Self.freePort()
            let config = """
                version: 0.1
                log:
                  level: info
                  accesslog:
                    disabled: false
                storage:
                  filesystem:
                    rootdirectory: \(dir.file("data"))
                  delete:
                    enabled: true
                http:
                  addr: 127.0.0.1:\(port)
                \(tlsConfig)\(auth)
                """
            try Data(config.utf8).write(to: URL(fileURLWithPath: dir.file("config.yml")))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.executable)
            process.arguments = ["serve", dir.file("config.yml")]
            _ = FileManager.default.createFile(atPath: dir.file("registry.log"), contents: nil)
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: dir.file("registry.log")))
            process.standardOutput = log
            process.standardError = log
            process.standardInput = FileHandle.nullDevice
            try process.run()
            // Ours is listening when its own log says so: a listener on the port could be another
            // test's registry that took the same free port first (then ours exits, and we try again).
            let logFile = dir.file("registry.log")
            let listening = { ((try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "").contains("listening on 127.0.0.1:\(port)") }
            if try Self.waitForListener(port: port, while: { process.isRunning }), try Self.waitFor(listening, while: { process.isRunning }) {
                self.port = port
                self.processBox = process
                return
            }
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            lastError = (try? String(contentsOfFile: dir.file("registry.log"), encoding: .utf8)) ?? ""
        }
        throw SetupFailure("docker-registry did not start: \(lastError)")
    }

    private var processBox: Process?

    deinit {
        if let process = processBox, process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// A port nothing listens on now: bound to port 0, read back, released.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SetupFailure("socket failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw SetupFailure("bind failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Waits (up to 15 s) until something accepts connections on `port`, while `alive` holds.
    static func waitForListener(port: Int, while alive: () -> Bool) throws -> Bool {
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline && alive() {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            close(fd)
            if connected { return true }
            // Polling a condition (the listener), not hiding a race: the registry takes a moment to bind.
            usleep(20_000)
        }
        return false
    }

    /// Waits (up to 15 s) until `condition` holds, while `alive` holds.
    static func waitFor(_ condition: () -> Bool, while alive: () -> Bool) throws -> Bool {
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if condition() { return true }
            guard alive() else { return condition() }
            usleep(10_000)
        }
        return false
    }

    struct SetupFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

/// `Tests/Fixtures/registry_proxy.py` in front of a registry, misbehaving as `mode` says; stopped when
/// released (its stdin closes).
final class RegistryProxy {
    let port: Int
    private let process = Process()
    private let input = Pipe()
    let errors = Pipe()
    var host: String { "127.0.0.1:\(port)" }

    init(upstream: TestRegistry, mode: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [repositoryRoot + "/Tests/Fixtures/registry_proxy.py", String(upstream.port), mode]
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = input
        process.standardError = FileHandle.nullDevice
        try process.run()
        let line = output.fileHandleForReading.availableData
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TestRegistry.SetupFailure("registry_proxy.py printed no port")
        }
        self.port = port
    }

    deinit {
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}
