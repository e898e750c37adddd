// swift-tools-version:6.2
// Benchmarks live in their own package so that building and testing the service never compiles
// ordo-one/benchmark. Run from this directory: `swift package benchmark` (see docs/BENCHMARKS.md).
import Foundation
import PackageDescription

// A path dependency's identity is its directory name, which depends on where the repository was
// cloned; derive it instead of hard-coding it.
let servicePackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .lastPathComponent

let package = Package(
    name: "benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .target(
            name: "Fleet",
            dependencies: [.product(name: "Geo", package: servicePackage)],
            path: "Benchmarks/Fleet",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "MatchingBenchmark",
            dependencies: ["Fleet", .product(name: "DispatchCore", package: servicePackage)],
            path: "Benchmarks/MatchingBenchmark",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "LocationUpdates",
            dependencies: [
                .product(name: "DispatchCore", package: servicePackage), .product(name: "Geo", package: servicePackage),
            ],
            path: "Benchmarks/LocationUpdates",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "RoadETA",
            dependencies: [
                .product(name: "DispatchCore", package: servicePackage), .product(name: "Geo", package: servicePackage),
            ],
            path: "Benchmarks/RoadETA",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "IndexMemory",
            dependencies: ["Fleet", .product(name: "Geo", package: servicePackage)],
            path: "Benchmarks/IndexMemory",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "IndexBenchmarks",
            dependencies: [
                "Fleet",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Geo", package: servicePackage),
            ],
            path: "Benchmarks/IndexBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
