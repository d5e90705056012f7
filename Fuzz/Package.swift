// swift-tools-version: 6.1
// libFuzzer harnesses for Orca's input parsers (`make fuzz`). A package of its own so that the
// main build never links a binary without `main`; built with `-sanitize=fuzzer`.
import PackageDescription

let package = Package(
    name: "orca-fuzz",
    dependencies: [.package(name: "orca", path: "..")],
    targets: [
        .executableTarget(name: "orca-fuzz", dependencies: [.product(name: "OrcaFuzzing", package: "orca")]),
    ]
)
