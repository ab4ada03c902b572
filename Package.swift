// swift-tools-version:6.0
import PackageDescription

// Module graph (DESIGN.md): EncoreMath <- EncoreData <- ... ; EncoreCharts stands alone; `encore` is the thin CLI.
let package = Package(
    name: "encore",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "encore", targets: ["encore"]),
        .library(name: "EncoreMath", targets: ["EncoreMath"]),
        .library(name: "EncoreData", targets: ["EncoreData"]),
        .library(name: "EncoreCharts", targets: ["EncoreCharts"]),
        .library(name: "EncoreText", targets: ["EncoreText"]),
        .library(name: "EncoreNN", targets: ["EncoreNN"]),
        .library(name: "EncoreModels", targets: ["EncoreModels"]),
        .library(name: "EncoreEval", targets: ["EncoreEval"]),
        .library(name: "EncorePolicy", targets: ["EncorePolicy"]),
        .library(name: "EncoreStore", targets: ["EncoreStore"]),
        .library(name: "EncoreService", targets: ["EncoreService"]),
        .library(name: "EncoreServer", targets: ["EncoreServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // Hand-written vector kernels (C, AVX-512 or AVX2 chosen at run time) where OpenBLAS has no call that fits.
        .target(name: "CEncoreKernels"),
        .target(name: "EncoreMath", dependencies: ["CBLAS", "CEncoreKernels"]),
        .target(name: "EncoreData", dependencies: ["EncoreMath"]),
        .target(name: "EncoreCharts"),
        .target(name: "EncoreText", dependencies: ["EncoreMath", "CBLAS"]),
        // Reverse-mode autograd and optimisers for the graph networks.
        .target(name: "EncoreNN", dependencies: ["EncoreMath"]),
        .target(name: "EncoreModels", dependencies: ["EncoreMath", "EncoreData", "EncoreText", "EncoreNN", "CBLAS"]),
        .target(name: "EncoreEval", dependencies: ["EncoreData", "EncoreModels", "EncoreMath"]),
        .target(name: "EncorePolicy", dependencies: ["EncoreMath", "EncoreData", "EncoreModels", "EncoreEval", "CEncoreKernels"]),
        .target(name: "EncoreStore", dependencies: [
            "EncoreMath", "EncoreData", "EncoreModels",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "GRDBSQLite", package: "GRDB.swift"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // What the CLI and the coming server share: data sources, the model list language, reports.
        .target(name: "EncoreService", dependencies: ["EncoreMath", "EncoreData", "EncoreCharts", "EncoreText", "EncoreModels", "EncoreEval", "EncorePolicy", "EncoreStore",
                                                      .product(name: "Crypto", package: "swift-crypto")]),
        // The HTTP service (Hummingbird 2): routes, auth, errors, metrics, the OpenAPI contract, the dashboard (swift-mustache).
        .target(name: "EncoreServer", dependencies: ["EncoreData", "EncoreMath", "EncoreCharts", "EncoreEval", "EncoreModels", "EncorePolicy", "EncoreStore", "EncoreService",
                                                     .product(name: "Mustache", package: "swift-mustache"),
                                                     .product(name: "Hummingbird", package: "hummingbird"),
                                                     .product(name: "Prometheus", package: "swift-prometheus"),
                                                     .product(name: "Logging", package: "swift-log")]),
        .executableTarget(
            name: "encore",
            dependencies: [
                "EncoreMath", "EncoreData", "EncoreCharts", "EncoreText", "EncoreModels", "EncoreEval", "EncorePolicy", "EncoreStore", "EncoreService", "EncoreServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Benchmark helper (bench/run.sh kmeans): k-means on a raw Float32 matrix.
        .executableTarget(name: "encore-bench-kmeans", dependencies: ["EncoreMath"], path: "bench/kmeans"),
        // Benchmark helper (bench/run.sh graph): LightGCN's learning curve in one training run.
        .executableTarget(name: "encore-bench-lightgcn", dependencies: ["EncoreMath", "EncoreData", "EncoreModels", "EncoreEval"], path: "bench/lightgcn"),
        .testTarget(name: "EncoreMathTests", dependencies: ["EncoreMath"]),
        .testTarget(name: "EncoreNNTests", dependencies: ["EncoreNN", "EncoreMath"]),
        .testTarget(name: "EncoreDataTests", dependencies: ["EncoreData", "EncoreMath"]),
        .testTarget(name: "EncoreChartsTests", dependencies: ["EncoreCharts"]),
        .testTarget(name: "EncoreTextTests", dependencies: ["EncoreText"]),
        .testTarget(name: "EncoreModelsTests", dependencies: ["EncoreModels", "EncoreNN", "EncoreEval", "EncoreData", "EncoreMath"]),
        .testTarget(name: "EncoreEvalTests", dependencies: ["EncoreEval", "EncoreModels", "EncoreData"]),
        .testTarget(name: "EncoreStoreTests", dependencies: ["EncoreStore", "EncoreModels", "EncoreData", "EncoreMath",
                                                             .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "EncorePolicyTests", dependencies: ["EncorePolicy", "EncoreService", "EncoreModels", "EncoreData", "EncoreEval", "EncoreMath", "EncoreCharts"]),
        .testTarget(name: "EncoreServerTests", dependencies: ["EncoreServer", "EncoreService", "EncoreStore", "EncoreData", "EncoreModels", "EncorePolicy",
                                                             .product(name: "Hummingbird", package: "hummingbird"),
                                                             .product(name: "HummingbirdTesting", package: "hummingbird")]),
        .testTarget(name: "EncoreCLITests", dependencies: ["EncoreData"]),
        .testTarget(name: "EncoreServiceTests", dependencies: ["EncoreService", "EncorePolicy", "EncoreModels", "EncoreData", "EncoreEval", "EncoreMath", "EncoreCharts"]),
    ],
    swiftLanguageModes: [.v6]
)
