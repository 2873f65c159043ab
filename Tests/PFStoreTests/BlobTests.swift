import Foundation
import Synchronization
import Testing
import PFModel
import PFSystem
@testable import PFStore

@Suite("Blobs")
struct BlobTests {
    @Test("a new store is an OCI image layout", arguments: Durability.allCases)
    func layout(durability: Durability) throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.file("store"), durability: durability)
        let files = FileManager.default
        #expect(String(decoding: files.bytes(store.path + "/oci-layout"), as: UTF8.self) == #"{"imageLayoutVersion":"1.0.0"}"#)
        #expect(String(decoding: files.bytes(store.path + "/index.json"), as: UTF8.self)
            == #"{"annotations":{"dev.pfhost.store.format":"2"},"manifests":[],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2}"#)
        var isDirectory: ObjCBool = false
        #expect(files.fileExists(atPath: store.path + "/blobs/sha256", isDirectory: &isDirectory) && isDirectory.boolValue)
        #expect(try SnapshotStore(opening: dir.file("store")).path == store.path)
    }

    @Test("stores content under its digest, read-only, once", arguments: Durability.allCases)
    func contentAddressed(durability: Durability) throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.path, durability: durability)
        let first = try store.putBlob(Array("hello".utf8))
        let again = try store.putBlob(Array("hello".utf8))
        #expect(first == again)
        #expect(first.digest.hex == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        #expect(store.has(first.digest))
        #expect(try store.readBlob(first.digest) == Array("hello".utf8))
        if durability == .batch {
            // Waiting for the flush phase: visible to this process only.
            #expect(!FileManager.default.fileExists(atPath: store.blobPath(first.digest)))
            try store.flushPendingBlobs()
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: store.blobPath(first.digest))
        #expect((attributes[.posixPermissions] as? Int) == 0o444)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/ingest").filter { $0.hasSuffix(".tmp") } == [])
    }

    @Test("streams files and writers, hashing as it writes")
    func streaming() throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.file("store"), durability: .none)
        var bytes = [UInt8](repeating: 0, count: 3 << 20 + 123)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 7 &+ i >> 12) }
        _ = FileManager.default.createFile(atPath: dir.file("big"), contents: Data(bytes))
        let blob = try store.putFile(at: dir.file("big"))
        #expect(blob == BlobRef(digest: Digest.of(bytes), size: Int64(bytes.count)))
        #expect(try store.hashBlob(blob.digest) == blob)

        let writer = try store.makeWriter()
        try writer.write(Array(bytes[..<1000]))
        try writer.write(Array(bytes[1000...]))
        #expect(try writer.commit() == blob)
    }

    @Test("an aborted writer leaves nothing behind")
    func abort() throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.path, durability: .strict)
        let writer = try store.makeWriter()
        try writer.write(Array("partial".utf8))
        writer.abort()
        #expect(!store.has(Digest.of(Array("partial".utf8))))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/ingest").filter { $0.hasSuffix(".tmp") } == [])
    }

    @Test("putFile refuses what is not a regular file, naming it")
    func putFileErrors() throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.file("store"))
        #expect { try store.putFile(at: dir.file("missing")) } throws: { error in
            "\(error)".contains("opening \(dir.file("missing")) failed") && "\(error)".contains("No such file")
        }
        #expect { try store.putFile(at: dir.path) } throws: { error in
            "\(error)" == "\(dir.path) is not a regular file (a directory, FIFO, socket or device?): only regular files are stored as blobs"
        }
    }

    @Test("a blob over 64 MiB is not read whole: the message says so and names it")
    func readBlobLimit() throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.file("store"), durability: .none)
        let blob = try store.putBlob([UInt8](repeating: 7, count: (64 << 20) + 1))
        try store.flush()
        #expect { try store.readBlob(blob.digest) } throws: { error in
            "\(error)".hasPrefix("\(store.blobPath(blob.digest)) is corrupt: over 64 MiB, more than pfhost reads whole")
        }
    }

    @Test("a blob of the wrong size under its name is rewritten, not reused")
    func damagedBlobIsNotReused() throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.path, durability: .none)
        let digest = Digest.of(Array("payload".utf8))
        _ = FileManager.default.createFile(atPath: store.blobPath(digest), contents: Data("pay".utf8))
        #expect(try store.size(of: digest) == 3)
        _ = try store.putBlob(Array("payload".utf8))
        #expect(try store.readBlob(digest) == Array("payload".utf8))
    }

    @Test("a directory without oci-layout is not a store")
    func notAStore() throws {
        let dir = TemporaryDirectory()
        #expect { try SnapshotStore(opening: dir.path) } throws: { error in
            "\(error)" == "\(dir.path) is not a pfhost store: \(dir.path)/oci-layout does not exist (create one with 'pfhost init --store \(dir.path)' or pass --store)"
        }
        _ = FileManager.default.createFile(atPath: dir.file("oci-layout"), contents: Data("{\"imageLayoutVersion\":\"2.0.0\"}".utf8))
        #expect { try SnapshotStore(opening: dir.path) } throws: { error in
            "\(error)".contains("imageLayoutVersion 2.0.0, expected 1.0.0")
        }
    }
}

@Suite("Reading blobs")
struct BlobReaderTests {
    @Test("a reader streams a blob and checks it at the end")
    func streams() throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.path, durability: .none)
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let blob = try store.putBlob(bytes)
        let reader = try store.openBlob(blob.digest)
        #expect(reader.size == Int64(bytes.count))
        var read: [UInt8] = []
        while let chunk = try reader.read(upTo: 65_536) { read += chunk }
        #expect(read == bytes)
        #expect(try reader.read(upTo: 10) == nil)
    }

    @Test("a damaged blob fails at the end of the stream; a missing one at open")
    func damaged() throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.path, durability: .none)
        let blob = try store.putBlob(Array("original".utf8))
        try FileManager.default.removeItem(atPath: store.blobPath(blob.digest))
        _ = FileManager.default.createFile(atPath: store.blobPath(blob.digest), contents: Data("tampered".utf8))
        let reader = try store.openBlob(blob.digest)
        #expect(try reader.read(upTo: 100) == Array("tampered".utf8))
        #expect { try reader.read(upTo: 100) } throws: { "\($0)".contains("is corrupt: its content does not match its digest") }
        let ghost = Digest.of([9])
        #expect { try store.openBlob(ghost) } throws: { "\($0)" == "blob \(ghost) is not in \(dir.path)" }
    }
}

@Suite("Ingesting files under faults")
struct PutFileFaultTests {
    @Test("a failed write or read while copying a file is reported and leaves nothing behind",
          arguments: [SystemCalls.Operation.write, .read])
    func fault(operation: SystemCalls.Operation) throws {
        let dir = TemporaryDirectory()
        let input = dir.file("big.bin")
        _ = FileManager.default.createFile(atPath: input, contents: Data(repeating: 3, count: 9 << 20))
        let seen = Mutex(0)
        let hook: SystemCalls.FaultHook = { op, path in
            // Fail the second call of that kind: after some bytes have gone through.
            guard op == operation, operation == .write ? path.contains("/ingest/blob-") : path == input else { return nil }
            return seen.withLock { count in
                count += 1
                return count == 2 ? EIO : nil
            }
        }
        let store = try SnapshotStore.openOrCreate(at: dir.file("store"), durability: .strict, system: SystemCalls(faultHook: hook))
        #expect {
            try store.putFile(at: input)
        } throws: { error in
            let text = "\(error)"
            return operation == .write
                ? text.hasPrefix("writing a blob to \(store.path)/ingest/") && text.contains("failed: write '")
                : text == "reading \(input) failed: read '\(input)': Input/output error"
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.path + "/ingest").filter { $0.hasSuffix(".tmp") } == [])
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.path + "/blobs/sha256") == [])
        // The same store ingests the file once the fault is gone.
        #expect(try store.putFile(at: input).digest == Digest.of([UInt8](repeating: 3, count: 9 << 20)))
    }
}

@Suite("Streaming writers past the pipeline threshold")
struct PipelinedWriterTests {
    /// 6 MiB in 64 KiB pieces of varying bytes: past ``BlobWriter/pipelineThreshold``.
    static let pieces: [[UInt8]] = (0..<96).map { n in (0..<(64 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ n) } }

    @Test("a blob written in pieces past the threshold has the digest and bytes of the whole")
    func pipelined() throws {
        let dir = TemporaryDirectory()
        let store = try SnapshotStore.openOrCreate(at: dir.file("store"), durability: .strict)
        let writer = try store.makeWriter()
        for piece in Self.pieces { try writer.write(piece) }
        let blob = try writer.commit()
        let whole = Self.pieces.flatMap { $0 }
        #expect(blob.digest == Digest.of(whole) && blob.size == Int64(whole.count))
        #expect(try store.readBlob(blob.digest) == whole)
    }

    @Test("a write that fails on the pipeline's thread fails the commit, and nothing is left")
    func pipelinedFault() throws {
        let dir = TemporaryDirectory()
        let seen = Mutex(0)
        let hook: SystemCalls.FaultHook = { op, path in
            guard op == .write, path.contains("/ingest/blob-") else { return nil }
            return seen.withLock { count in
                count += 1
                return count == 70 ? EIO : nil // past the threshold: on the pipeline's thread
            }
        }
        let store = try SnapshotStore.openOrCreate(at: dir.file("store"), durability: .strict, system: SystemCalls(faultHook: hook))
        let writer = try store.makeWriter()
        var failedEarly = false
        for piece in Self.pieces {
            do { try writer.write(piece) } catch {
                failedEarly = true
                break
            }
        }
        if failedEarly {
            writer.abort()
        } else {
            #expect(throws: StoreError.self) { try writer.commit() }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.path + "/ingest").filter { $0.hasSuffix(".tmp") } == [])
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.path + "/blobs/sha256") == [])
    }
}
