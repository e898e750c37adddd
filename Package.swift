// swift-tools-version:6.2
import PackageDescription

/// Settings shared by every target of ours: Swift 6 language mode (complete concurrency checking is
/// implied), plus the upcoming features the Hummingbird ecosystem builds with.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// Tests use the same language mode; they skip MemberImportVisibility, which would make every test file
/// import each module whose members its assertions touch.
let testSwiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "taxi-dispatch",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "dispatch-server", targets: ["DispatchServer"]),
        .library(name: "Geo", targets: ["Geo"]),
        .library(name: "DispatchCore", targets: ["DispatchCore"]),
        .executable(name: "dispatch-loadtest", targets: ["DispatchLoadTest"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        // Bearer tokens: the authenticator middleware and request context, and JWT verification.
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(
            url: "https://github.com/apple/swift-configuration.git",
            from: "1.4.0",
            traits: ["CommandLineArguments"]
        ),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        // The load test's client side: HTTP (already built for HummingbirdTesting) and latency histograms.
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        // The load test's command line: subcommands, each with its own `--help`.
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        // Pure value types and the spatial index: no dependencies, no I/O.
        .target(name: "Geo", path: "Sources/Geo", swiftSettings: swiftSettings),
        // Dispatch domain logic. Not named `Dispatch`: that would hide the toolchain's libdispatch.
        .target(
            name: "DispatchCore",
            dependencies: [
                "Geo",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            path: "Sources/Dispatch",
            swiftSettings: swiftSettings
        ),
        // The HTTP service. Not named `Server`: HummingbirdCore exports a `Server` type.
        .executableTarget(
            name: "DispatchServer",
            dependencies: [
                "DispatchCore",
                "Geo",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            path: "Sources/Server",
            swiftSettings: swiftSettings
        ),
        // The load test's logic without I/O: scenarios, arrivals, movement, the simulated fleet,
        // measurements, the consistency check and the reports.
        .target(
            name: "LoadTestKit",
            dependencies: [
                "Geo",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            path: "loadtest/Sources/LoadTestKit",
            swiftSettings: swiftSettings
        ),
        // `dispatch-loadtest`: drives a running service over HTTP as rider and driver apps would.
        .executableTarget(
            name: "DispatchLoadTest",
            dependencies: [
                "LoadTestKit",
                "Geo",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "loadtest/Sources/dispatch-loadtest",
            swiftSettings: swiftSettings
        ),
        // Fakes for tests (a manual clock), kept out of production code.
        .target(
            name: "DispatchTestSupport",
            dependencies: ["DispatchCore"],
            path: "Tests/DispatchTestSupport",
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "GeoTests",
            dependencies: ["Geo", "DispatchTestSupport", .product(name: "HeapModule", package: "swift-collections")],
            path: "Tests/GeoTests",
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "DispatchCoreTests",
            dependencies: ["DispatchCore", "DispatchTestSupport"],
            path: "Tests/DispatchCoreTests",
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "DispatchServerTests",
            dependencies: [
                "DispatchServer",
                "DispatchTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSTesting", package: "hummingbird-websocket"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/DispatchServerTests",
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "LoadTestTests",
            dependencies: ["LoadTestKit", "Geo"],
            path: "Tests/LoadTestTests",
            swiftSettings: testSwiftSettings
        ),
    ]
)
