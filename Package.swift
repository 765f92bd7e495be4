// swift-tools-version: 6.0
// shoal: one binary that turns a set of hosts into a self-healing container platform.
// Module map and the one-way import rule: docs/ARCHITECTURE.md.
import PackageDescription

let package = Package(
    name: "shoal",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "RaftCore", targets: ["RaftCore"]),
        .library(name: "RaftStorage", targets: ["RaftStorage"]),
        .library(name: "SimKit", targets: ["SimKit"]),
        .executable(name: "shoal", targets: ["shoal"]),
        .executable(name: "shoal-sim", targets: ["shoal-sim"]),
        .executable(name: "shoal-bench", targets: ["shoal-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        // The node agent's CRI client (containerd). Never the protobuf build plugin: it
        // compiles protoc; scripts/gen-cri generates Sources/CRI/Generated once.
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // System libraries from Debian's -dev packages (module map + shim header).
        .systemLibrary(
            name: "CLibUV", path: "Sources/CLibUV", pkgConfig: "libuv",
            providers: [.apt(["libuv1-dev"]), .brew(["libuv"])]),
        .systemLibrary(
            name: "CHTTPParser", path: "Sources/CHTTPParser",
            providers: [.apt(["libhttp-parser-dev"]), .brew(["http-parser"])]),
        .systemLibrary(
            name: "CLZ4", path: "Sources/CLZ4", pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"]), .brew(["lz4"])]),
        .systemLibrary(
            name: "CNFTables", path: "Sources/CNFTables", pkgConfig: "libnftables",
            providers: [.apt(["libnftables-dev"])]),
        .systemLibrary(
            name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"]), .brew(["openssl@3"])]),

        // The consensus algorithm as a pure value: no Foundation, no I/O, no clock.
        .target(name: "RaftCore"),

        // CRC-32C for WAL records and snapshots (SSE4.2 when the CPU has it).
        .target(name: "CRC32C"),

        // Durable Raft storage: segmented WAL with group commit, lz4 snapshots, recovery.
        .target(name: "RaftStorage", dependencies: ["RaftCore", "CLZ4", "CRC32C"]),

        // libuv event loop, timers, TCP, TLS (OpenSSL over memory BIOs, X.509 with
        // swift-certificates), and authenticated peer messaging for Raft.
        .target(name: "Transport", dependencies: ["CLibUV", "COpenSSL", .product(name: "Crypto", package: "swift-crypto"),
                                                  .product(name: "X509", package: "swift-certificates"),
                                                  .product(name: "SwiftASN1", package: "swift-asn1")]),

        // HTTP/1.1 API: request parsing (libhttp-parser), routes, the CLI's client.
        .target(name: "API", dependencies: ["CHTTPParser", "JSON", "Store", "Transport"]),

        // JSON values, parsing and printing without Foundation (the pure Store speaks JSON).
        .target(name: "JSON"),

        // The replicated state machine: typed objects, revisions, watch (pure).
        .target(name: "Store", dependencies: ["JSON"]),

        // The shell: the Ready loop wiring storage, transport, store and API; cluster lifecycle.
        .target(
            name: "Server",
            dependencies: ["RaftCore", "RaftStorage", "Transport", "Store", "API", "JSON", "Controllers", "Agent", "ServiceProxy", "ClusterDNS", .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "X509", package: "swift-certificates")]),

        // CRI v1 (the subset in proto/cri.proto, generated Swift in Generated/) and a blocking
        // client of a runtime's unix socket over grpc-swift-2.
        .target(
            name: "CRI",
            dependencies: [.product(name: "GRPCCore", package: "grpc-swift-2"),
                           .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                           .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                           .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["proto"]),

        // The node agent (kubelet): pods bound to this member run in containerd through CRI.
        .target(name: "Agent", dependencies: ["CRI", "Store", "JSON"]),

        // The service proxy: Services and EndpointSlices as nftables rules (ClusterIP, NodePort).
        .target(name: "ServiceProxy", dependencies: ["CNFTables", "Store", "JSON"]),

        // Cluster DNS: service and pod names answered from the store, others forwarded.
        .target(name: "ClusterDNS", dependencies: ["Store", "Transport"]),

        // Test support: seeded simulation of whole clusters, scenario scripts, checkers.
        // The leader's controllers: pure reconcile functions over a typed cache of the store.
        .target(name: "Controllers", dependencies: ["Store", "JSON"]),
        .target(name: "SimKit", dependencies: ["RaftCore", "RaftStorage", "Server", "Store", "API", "JSON", "Transport"]),

        .executableTarget(
            name: "shoal",
            dependencies: ["Server", "API", "Store", "JSON", "Transport", .product(name: "Yams", package: "Yams"),
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(
            name: "shoal-sim",
            dependencies: ["SimKit", "Server", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(
            name: "shoal-bench",
            dependencies: ["RaftCore", "RaftStorage", "Transport", "API", "Store", "JSON",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "bench/shoal-bench"),

        .testTarget(name: "RaftCoreTests", dependencies: ["RaftCore", "SimKit"]),
        .testTarget(name: "RaftStorageTests", dependencies: ["RaftStorage", "RaftCore", "SimKit"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        // testdata/ is read from the source tree (ControllerScenarioTests), so a rewrite updates it.
        .testTarget(name: "ControllersTests", dependencies: ["Controllers", "Store", "JSON", "SimKit"], exclude: ["testdata"]),
        // Reads the sources and docs/ARCHITECTURE.md only (the import rule): no dependencies.
        .testTarget(name: "ArchitectureTests"),
        .testTarget(name: "IntegrationTests", dependencies: ["shoal", "API", "JSON"]),
        .testTarget(name: "ServerTests", dependencies: ["Server", "RaftCore", "RaftStorage", "Store", "JSON", "Transport",
                                                        .product(name: "X509", package: "swift-certificates")]),
        .testTarget(name: "TransportTests", dependencies: ["Transport"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "JSON"]),
        .testTarget(name: "AgentTests", dependencies: ["Agent", "Store", "JSON"]),
        .testTarget(name: "ServiceProxyTests", dependencies: ["ServiceProxy", "Store", "JSON"], exclude: ["testdata"]),
        .testTarget(name: "ClusterDNSTests", dependencies: ["ClusterDNS", "Store", "Transport"]),
        .testTarget(name: "APITests", dependencies: ["API", "JSON", "Store", "Transport"]),
        .testTarget(
            name: "SimKitTests", dependencies: ["SimKit", "RaftCore", "Server"],
            resources: [.copy("testdata")]),
    ]
)
