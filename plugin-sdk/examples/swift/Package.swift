// swift-tools-version: 6.0
import PackageDescription

// A pfhost trace plugin in Swift: one .so (libexample-trace-swift.so), depending on nothing but the
// SDK's small plugin kit. Copy this directory, point the dependency at your copy of plugin-sdk/PFPluginSDK
// (or its URL), and build with the same Swift toolchain as the pfhost that will load it.
let package = Package(
    name: "example-trace-swift",
    products: [
        .library(name: "example-trace-swift", type: .dynamic, targets: ["ExampleTrace"]),
    ],
    dependencies: [
        .package(path: "../../PFPluginSDK"),
    ],
    targets: [
        .target(
            name: "ExampleTrace",
            dependencies: [.product(name: "PFPluginSDK", package: "PFPluginSDK")],
            // Export pf_plugin_entry_v1 and nothing else.
            linkerSettings: [.unsafeFlags(["-Xlinker", "--version-script=\(Context.packageDirectory)/../../exports.map"])]
        ),
    ],
    swiftLanguageModes: [.v6]
)
