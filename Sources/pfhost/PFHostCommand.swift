import ArgumentParser

/// `pfhost`: snapshot an AI agent's five layers into an OCI image layout.
@main
struct PFHostCommand: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "pfhost",
        abstract: "Snapshot an AI agent's model, cache, world, effects and trace into a content-addressed OCI store.",
        discussion: """
            Exit status: 0 success; 1 verify found problems; 2 a plugin was refused, failed, or cannot restore; \
            3 the store is missing, corrupt or failed; 4 no such snapshot; 64 bad usage; \
            73 restore: TARGET is not empty or cannot be created; 78 bad configuration.
            """,
        version: version,
        subcommands: [
            SnapshotCommand.self, RestoreCommand.self, PluginsCommand.self, ShowCommand.self, LogCommand.self,
            VerifyCommand.self, InitCommand.self, TagCommand.self, UntagCommand.self, ListCommand.self, ForgetCommand.self,
            GCCommand.self, MigrateCommand.self, CapturePluginCommand.self,
        ]
    )
}
