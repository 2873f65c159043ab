// swift-tools-version: 6.0
// Benchmarks live in their own package so the main build and CI never pay for them.
import PackageDescription

let package = Package(
    name: "pfhost-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "pfhost", path: "..")],
    targets: [
        .executableTarget(
            name: "pfbench",
            dependencies: [.product(name: "PFStore", package: "pfhost"), .product(name: "PFModel", package: "pfhost")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
