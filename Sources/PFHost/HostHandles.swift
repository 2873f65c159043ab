/// The two handle tables behind the pointers plugins hold: one for `pf_ctx *`, one for
/// `pf_blob_writer *`, each with a tag of its own so a pointer of one kind passed as the other is
/// refused.
enum HostHandles {
    /// `pf_ctx *` → ``CaptureContext``; tag `pc`.
    static let contexts = HandleTable<CaptureContext>(tag: 0x7063)
    /// `pf_blob_writer *` → ``BlobWriterBox``; tag `pw`.
    static let writers = HandleTable<BlobWriterBox>(tag: 0x7077)
}
