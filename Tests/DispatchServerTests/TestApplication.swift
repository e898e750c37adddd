import DispatchCore
import DispatchTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Metrics
import NIOCore
import Prometheus
import Testing

@testable import DispatchServer

/// Metrics can be bootstrapped once per process; every test app shares this registry.
enum TestMetrics {
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory.dispatchService(registry: registry))
        return registry
    }()
}

/// The start of every test's manual clock: 2027-01-15T08:00:00Z.
let testEpoch = Date(timeIntervalSince1970: 1_800_000_000)

/// Builds the application as `dispatch-server` does, with a manual clock, sequential ride IDs
/// (`ride-1`, …) and the shared metrics registry.
func makeTestApplication(
    configuration: ServerConfiguration = ServerConfiguration(),
    clock: ManualClock = ManualClock(start: testEpoch),
    readiness: Readiness = Readiness()
) -> some ApplicationProtocol {
    makeTestService(configuration: configuration, clock: clock, readiness: readiness).application
}

/// Like `makeTestApplication`, also returning the dispatcher and the event hub.
/// - Parameter loadSignals: What admission control reads instead of the real probes (nil: quiet).
func makeTestService(
    configuration: ServerConfiguration = ServerConfiguration(),
    clock: ManualClock = ManualClock(start: testEpoch),
    readiness: Readiness = Readiness(),
    loadSignals: (@Sendable () -> LoadSignals)? = nil
) -> (application: some ApplicationProtocol, parts: ServiceParts) {
    buildApplication(
        configuration: configuration,
        dependencies: ApplicationDependencies(
            clock: clock,
            rideIDs: SequentialRideIDs(),
            metricsRegistry: TestMetrics.registry,
            readiness: readiness,
            // A shared test machine's real scheduling lag must not shed the tests' requests.
            loadSignals: loadSignals ?? { LoadSignals() }
        )
    )
}

extension TestClientProtocol {
    /// Sends a request with an optional JSON body and returns the response.
    @discardableResult
    func send(_ method: HTTPRequest.Method, _ uri: String, json: String? = nil) async throws -> TestResponse {
        try await execute(uri: uri, method: method, body: json.map { ByteBuffer(string: $0) }) { $0 }
    }
}

extension TestResponse {
    /// The body as a string.
    var text: String { String(buffer: body) }

    /// The body decoded as JSON.
    func json<Value: Decodable>(_ type: Value.Type) throws -> Value {
        try JSONDecoder().decode(Value.self, from: Data(body.readableBytesView))
    }

    /// The `{"error":{"code","message"}}` body's code, or nil when the body is not an error.
    var errorCode: String? {
        struct Envelope: Decodable {
            struct Detail: Decodable {
                let code: String
                let message: String
            }
            let error: Detail
        }
        guard let envelope = try? json(Envelope.self), !envelope.error.message.isEmpty else { return nil }
        return envelope.error.code
    }
}

/// The driver view as the API returns it.
struct DriverJSON: Decodable, Equatable {
    struct Location: Decodable, Equatable {
        let lat: Double
        let lng: Double
    }
    let id: String
    let status: String
    let location: Location
    let updatedAt: String
}

/// The nearby answer as the API returns it.
struct NearbyJSON: Decodable {
    struct Entry: Decodable {
        let id: String
        let location: DriverJSON.Location
        let distanceMeters: Double
    }
    let drivers: [Entry]
}
