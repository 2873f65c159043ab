/// One plugin's capture as ``CaptureRunner`` drives it: on a thread of this process
/// (``InProcessCapture``) or in a child process of its own (``PluginProcess``, `--isolate`).
protocol CaptureTask: AnyObject, Sendable {
    /// The plugin capturing.
    var plugin: LoadedPlugin { get }

    /// Starts the capture. `whenFinished` is called exactly once, from any thread, when it has
    /// ended (at once if it already has); ``outcome`` is set by then.
    func start(whenFinished: @escaping @Sendable () -> Void)

    /// Asks the capture to stop: `cancelled()` turns non-zero and blob writes fail. May come
    /// before ``start(whenFinished:)``, and more than once.
    func cancel()

    /// What the capture produced and how long it took; nil until it has finished.
    var outcome: (result: Result<CapturedLayer, CaptureFailure>, milliseconds: Int64)? { get }

    /// Whether the layer of a successful capture is the parent's layer the plugin was given, byte
    /// for byte without its `plugin` stamp: then the snapshot can name the parent's stored layer
    /// config instead of storing the layer again. Meaningful once the capture has finished.
    var layerUnchanged: Bool { get }

    /// Gives up on a capture that ignored cancellation for the whole grace period. Returns what
    /// was done to stop it for good (its process killed: it will still finish, and promptly), or
    /// nil when it cannot be stopped (a thread): then it may go on running and using what it
    /// was given, and the caller must not free that.
    func abandon() -> String?
}
