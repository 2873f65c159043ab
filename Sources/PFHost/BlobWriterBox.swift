import PFStore

/// What stands behind one `pf_blob_writer *`.
///
/// `@unchecked Sendable`: the ABI forbids using one writer from two threads at once, and the
/// host itself touches a writer only after the plugin's capture has returned.
final class BlobWriterBox: @unchecked Sendable {
    let writer: BlobWriter
    unowned let context: CaptureContext

    init(writer: BlobWriter, context: CaptureContext) {
        self.writer = writer
        self.context = context
    }
}
