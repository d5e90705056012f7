// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "orca",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "orca", targets: ["orca"]),
        // The input parsers' fuzz targets, for the libFuzzer harness package in Fuzz/.
        .library(name: "OrcaFuzzing", targets: ["OrcaFuzzing"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
    ],
    targets: [
        .target(name: "OrcaCore", dependencies: [
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "OrcaAPI", dependencies: ["OrcaCore"], resources: [.copy("Resources/openapi-definitions.json")]),
        .target(name: "OrcaStore", dependencies: ["OrcaCore"]),
        .target(name: "OrcaStoreSQLite", dependencies: [
            "OrcaStore", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .target(name: "OrcaAPIServer", dependencies: [
            "OrcaAPI", "OrcaStore",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "HummingbirdHTTP2", package: "hummingbird"),
            .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
            .product(name: "Yams", package: "Yams"),
        ]),
        .target(name: "OrcaClient", dependencies: [
            "OrcaAPI",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Yams", package: "Yams"),
        ]),
        .target(name: "OrcaControllers", dependencies: [
            "OrcaClient", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .target(name: "OrcaScheduler", dependencies: ["OrcaControllers"]),
        .target(name: "OrcaRuntime", dependencies: [
            "OrcaCore",
            .product(name: "Subprocess", package: "swift-subprocess"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ]),
        .target(name: "OrcaNetwork", dependencies: [
            "OrcaCore",
            .product(name: "Subprocess", package: "swift-subprocess"),
        ]),
        .target(name: "OrcaAgent", dependencies: [
            "OrcaClient", "OrcaRuntime", "OrcaNetwork",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        .target(name: "OrcaCLI", dependencies: [
            "OrcaAPIServer", "OrcaStoreSQLite", "OrcaScheduler", "OrcaControllers", "OrcaAgent", "OrcaRuntime",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Yams", package: "Yams"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .executableTarget(name: "orca", dependencies: ["OrcaCLI", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .target(name: "OrcaTesting", dependencies: ["OrcaStore"]),
        .target(name: "OrcaFuzzing", dependencies: ["OrcaAPIServer", "OrcaRuntime"]),
        .testTarget(name: "OrcaFuzzingTests", dependencies: ["OrcaFuzzing"], exclude: ["Regressions"]),
        .testTarget(name: "OrcaStoreTests", dependencies: ["OrcaStore", "OrcaStoreSQLite", "OrcaTesting"]),
        .testTarget(name: "OrcaAPITests", dependencies: ["OrcaAPI"]),
        .testTarget(name: "OrcaAPIServerTests", dependencies: ["OrcaAPIServer", "OrcaTesting"]),
        .testTarget(name: "OrcaRuntimeTests", dependencies: ["OrcaRuntime", "OrcaNetwork"]),
        .testTarget(name: "OrcaAgentTests", dependencies: ["OrcaAgent"]),
        .testTarget(name: "OrcaControllersTests", dependencies: ["OrcaControllers", "OrcaScheduler", "OrcaCLI", "OrcaStore"]),
        .testTarget(name: "OrcaE2ETests", dependencies: ["OrcaCore", "OrcaClient", "OrcaControllers"]),
    ],
    swiftLanguageModes: [.v6]
)
