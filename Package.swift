// swift-tools-version: 6.0
import PackageDescription

/// The five reference capture plugins: each is its own `.so` (`libpf-<kind>.so`).
let referencePlugins: [(product: String, target: String)] = [
    ("pf-model", "ModelPlugin"), ("pf-cache", "CachePlugin"), ("pf-world", "WorldPlugin"),
    ("pf-effects", "EffectsPlugin"), ("pf-trace", "TracePlugin"),
]

/// Every target of ours: metadata of concrete types through direct accessor calls rather than
/// mangled names, which the runtime demangles on first use and checks by scanning every loaded
/// image's protocol conformances (docs/performance.md, "Process start").
let fastMetadata: [SwiftSetting] = [.unsafeFlags(["-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors"])]

let package = Package(
    name: "pfhost",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "pfhost", targets: ["pfhost"]),
        .library(name: "PFHost", targets: ["PFHost"]),
        .library(name: "PFStore", targets: ["PFStore"]),
        .library(name: "PFModel", targets: ["PFModel"]),
        .library(name: "PFDiff", targets: ["PFDiff"]),
        .library(name: "PFPluginKit", targets: ["PFPluginKit"]),
    ] + referencePlugins.map { .library(name: $0.product, type: .dynamic, targets: [$0.target]) },
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // The plugin ABI: the SDK's header, imported as is.
        .systemLibrary(name: "CPFPluginABI", path: "Sources/CPFPluginABI"),
        // SHA-256 from the system libcrypto (SHA-NI speed) and Linux calls Glibc lacks.
        .target(
            name: "CPFShims",
            linkerSettings: [.linkedLibrary("crypto")]
        ),
        // The one layer next to the kernel: every file-system call of the host, the store, the
        // plugin kit and the reference plugins, with a fault hook for tests.
        .target(name: "PFSystem", dependencies: ["CPFShims"]),
        // The Swift runtime a module was compiled with: pf_plugin.build_identity of Swift plugins.
        .target(name: "PFBuildIdentity", path: "plugin-sdk/PFPluginSDK/Sources/PFBuildIdentity"),
        // Digests, canonical JSON, the manifest and the five layer types.
        .target(name: "PFModel", dependencies: ["CPFShims"]),
        // The OCI image layout store and its commit protocol.
        .target(name: "PFStore", dependencies: ["PFModel", "PFSystem", "CPFShims"]),
        // HTTP over libcurl, loaded with dlopen on first use (never at startup): push and pull only.
        .target(name: "CPFCurl", linkerSettings: [.linkedLibrary("dl")]),
        // The OCI distribution API: push and pull of snapshots to and from registries.
        .target(name: "PFRegistry", dependencies: ["PFModel", "PFStore", "PFSystem", "CPFCurl"]),
        // What differs between two snapshots, read from the store's verified blobs.
        .target(name: "PFDiff", dependencies: ["PFModel", "PFStore"]),
        // Plugin loading, parallel capture, snapshot assembly.
        .target(
            name: "PFHost",
            dependencies: [
                "PFModel", "PFStore", "PFSystem", "CPFPluginABI", "PFBuildIdentity",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The command-line interface.
        .executableTarget(
            name: "pfhost",
            dependencies: [
                "PFHost", "PFStore", "PFModel", "PFDiff", "PFSystem", "PFBuildIdentity", "PFRegistry",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The Swift kit every reference plugin links statically.
        // The SDK's small Swift kit (plugin-sdk/PFPluginSDK, a package of its own for outside authors).
        .target(name: "PFPluginSDK", dependencies: ["CPFPluginABI", "PFBuildIdentity"], path: "plugin-sdk/PFPluginSDK/Sources/PFPluginSDK"),
        .target(name: "PFPluginKit", dependencies: ["CPFPluginABI", "PFModel", "PFSystem", "PFPluginSDK"], path: "Plugins/PFPluginKit"),
    ] + referencePlugins.map { plugin in
        .target(
            name: plugin.target,
            dependencies: ["PFPluginKit", "CPFPluginABI", "PFModel", "PFSystem"],
            path: "Plugins/\(plugin.target)",
            // Export pf_plugin_entry_v1 and nothing else, as the SDK asks of every plugin.
            linkerSettings: [.unsafeFlags(["-Xlinker", "--version-script=\(Context.packageDirectory)/plugin-sdk/exports.map"])]
        )
    } + [
        // Helpers shared by the test targets.
        .target(name: "PFTestSupport", dependencies: ["PFStore", "PFModel"], path: "Tests/PFTestSupport"),
        .testTarget(name: "PFModelTests", dependencies: ["PFModel"]),
        .testTarget(name: "PFStoreTests", dependencies: ["PFStore", "PFModel", "PFSystem", "PFTestSupport"]),
        .testTarget(name: "PFPluginKitTests", dependencies: ["PFPluginKit", "PFModel"]),
        .testTarget(
            name: "PFHostTests",
            dependencies: [
                "PFHost", "PFStore", "PFModel", "PFSystem", "PFTestSupport", "PFBuildIdentity", "pfhost",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

for target in package.targets where target.type != .system && !target.name.hasPrefix("CPF") {
    target.swiftSettings = (target.swiftSettings ?? []) + fastMetadata
}
