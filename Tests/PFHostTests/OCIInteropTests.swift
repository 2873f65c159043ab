import Foundation
import Testing
import PFModel
import PFStore

/// Proof, with a tool that shares no code with pfhost, that a store is a valid OCI image layout.
@Suite("OCI interoperability")
struct OCIInteropTests {
    @Test("skopeo copy --all copies a snapshot whole to another layout, with its content id; the copy verifies and reads back")
    func skopeoCopy() throws {
        let skopeo = ["/usr/bin/skopeo", "/usr/local/bin/skopeo"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let skopeo else {
            Issue.record("skopeo is not installed: run scripts/install-deps (as root) before swift test")
            return
        }
        let setup = SnapshotCommandTests.Setup()
        let id = try Digest(parsing: setup.snapshot(["--tag", "agent"]).stdout.trimmingCharacters(in: .newlines))
        let copy = setup.dir.file("copy")
        let output = try run(skopeo, ["--insecure-policy", "copy", "--all", "--preserve-digests", "oci:\(setup.store):agent", "oci:\(copy):moved"])
        #expect(output.status == 0, "\(output)")
        let verify = try pfhost("verify", "--all", "--store", copy)
        #expect(verify.status == 0, "\(verify)")
        let show = try pfhost("show", "moved", "--store", copy)
        #expect(show.stdout.hasPrefix("snapshot \(id)\ntags     moved\n"), "\(show)")
        let inspect = try run(skopeo, ["--insecure-policy", "inspect", "--raw", "oci:\(copy):moved"])
        #expect(Digest.of(Array(inspect.stdout.utf8)) == id, "\(inspect)")
    }
}
