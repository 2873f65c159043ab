/// Where a snapshot's plugins run.
public enum CaptureIsolation: Sendable, Equatable {
    /// In pfhost's own process, one thread each (the default): the fastest, but a plugin that
    /// crashes or corrupts memory takes pfhost down with it.
    case inProcess
    /// Each in a child process of its own (`pfhost snapshot --isolate`), started as
    /// `executable capture-plugin …`: `executable` must be pfhost (the CLI passes
    /// `/proc/self/exe`). A plugin that crashes, exits, hangs past the timeout or corrupts memory
    /// fails the snapshot naming it, and pfhost goes on to report it.
    case processes(executable: String)
}
