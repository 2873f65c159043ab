import PFModel

/// libFuzzer target, compiled into the PFStore module (RawIndex is internal): the raw scan of
/// `index.json` that `show`, `resolve` and commits use. Beyond not crashing: a scanned index
/// re-encodes to its own bytes; when the decoded path reads the same bytes, both list the same
/// snapshots and tags (so `show` and `log` cannot disagree); adding an entry either works or
/// changes nothing.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRawIndex(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let decoded = try? SnapshotStore.decodeIndex(bytes, file: "index.json")
    guard var raw = RawIndex(bytes) else { return 0 }
    guard raw.encoded() == bytes else { fatalError("a raw index does not re-encode to its bytes") }
    if let decoded {
        guard raw.entries.map(\.digest) == decoded.manifests.map(\.digest),
              raw.entries.map(\.refName) == decoded.manifests.map(\.refName) else {
            fatalError("the raw scan and the decoded index list different snapshots")
        }
    }
    let entry = OCIDescriptor(mediaType: MediaType.ociManifest, digest: Digest.of(bytes), size: Int64(size),
                              annotations: [AnnotationKey.refName: "main"])
    let before = raw.encoded()
    if !raw.add(entry, tag: "main") {
        guard raw.encoded() == before else { fatalError("a refused raw edit changed the index") }
    }
    return 0
}
