// swift-tools-version: 6.0
import PackageDescription

// The Swift plugin kit for pfhost plugins: the C ABI of ../include/pf_plugin.h and a small safe
// layer over it, with no dependencies. A plugin package depends on this one (by path or URL) and
// builds one .dynamic library: see ../examples/swift.
let package = Package(
    name: "PFPluginSDK",
    products: [
        .library(name: "PFPluginSDK", targets: ["PFPluginSDK"]),
    ],
    targets: [
        // pf_plugin.h, imported as is.
        .systemLibrary(name: "CPFPluginABI", path: "Sources/CPFPluginABI"),
        // The Swift this code is compiled with: the plugin table's build_identity.
        .target(name: "PFBuildIdentity"),
        .target(name: "PFPluginSDK", dependencies: ["CPFPluginABI", "PFBuildIdentity"]),
    ],
    swiftLanguageModes: [.v6]
)
