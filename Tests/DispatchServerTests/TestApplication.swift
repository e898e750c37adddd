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

/// The HS256 secret of every test application (unless a test configures its own keys).
let testAuthSecret = "a-test-secret-of-at-least-thirty-two-bytes"

/// Who a test request acts as.
enum TestCaller: Equatable {
    case rider(String)
    case driver(String)
    case ops(String)
    /// A driver whose token names its cohort.
    case driverOf(String, cohort: String)
    /// No `Authorization` header.
    case nobody
    /// This `Authorization` header value, as given.
    case header(String)

    /// The caller a request would have in a real app: the driver or rider its path or body names (a
    /// driver's report, a rider's request), an operator otherwise. Tests of routing and dispatch use
    /// this; the tests of authentication and ownership name their caller.
    static func inferred(path: String, json: String?) -> TestCaller {
        let segments = path.split(separator: "?").first?.split(separator: "/").map(String.init) ?? []
        // (A test of a bad ID gets an operator: the route then refuses the ID, not the token.)
        let valid = { (id: String) in DriverID.isValid(id) }
        if segments.count >= 3, segments[0] == "v1", segments[1] == "drivers", segments[2] != "nearby" {
            let id = segments[2].removingPercentEncoding ?? segments[2]
            return valid(id) ? .driver(id) : .ops("test-operator")
        }
        if segments.count >= 3, segments[0] == "v1", segments[1] == "riders", valid(segments[2]) {
            return .rider(segments[2])
        }
        if let json, let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] {
            if let rider = object["riderId"] as? String, object["driverId"] == nil, valid(rider) {
                return .rider(rider)
            }
            if let driver = object["driverId"] as? String, object["riderId"] == nil, valid(driver) {
                return .driver(driver)
            }
        }
        return .ops("test-operator")
    }

    /// The `Authorization` header's value, signed with `testAuthSecret`, valid until 30 days after the
    /// test epoch.
    func authorization(now: Date = testEpoch, ttl: Duration = .seconds(30 * 86_400)) async throws -> String? {
        let (subject, role): (String, Caller.Role)
        var cohort: String?
        switch self {
        case .rider(let id): (subject, role) = (id, .rider)
        case .driver(let id): (subject, role) = (id, .driver)
        case .driverOf(let id, let label): (subject, role, cohort) = (id, .driver, label)
        case .ops(let id): (subject, role) = (id, .ops)
        case .nobody: return nil
        case .header(let value): return value
        }
        // Issued at a fixed time in the past, so the same caller always gets the same token (the
        // edge recognises it once verified) and tests on the real clock accept it as well.
        let issued = Date(timeIntervalSince1970: 1_700_000_000)
        let token = try await TokenCommand.sign(
            .init(
                subject: subject,
                role: role,
                lifetime: .seconds(Int64(now.timeIntervalSince(issued))) + ttl,
                cohort: cohort
            ),
            secret: testAuthSecret,
            issuer: nil,
            audience: nil,
            now: issued
        )
        return "Bearer \(token)"
    }

    /// The header line of a raw HTTP request (`Authorization: …\r\n`), or nothing.
    func headerLine() async throws -> String {
        try await authorization().map { "Authorization: \($0)\r\n" } ?? ""
    }
}

/// Builds the application as `dispatch-server` does, with a manual clock, sequential ride IDs
/// (`ride-1`, …) and the shared metrics registry; tokens are signed with `testAuthSecret` unless the
/// configuration names other keys or disables authentication.
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
    var configuration = configuration
    if !configuration.auth.hasKeys, !configuration.auth.disabled { configuration.auth.secret = testAuthSecret }
    // Tests of other rules send many requests as one caller with the clock stopped; the rate-limit
    // tests set their own limits.
    if configuration.rateLimits == RateLimitPolicy() { configuration.rateLimits = .unlimitedForTests }
    // Tests run side by side: each metrics listener takes a free port (`ServiceParts.scrape`).
    configuration.metricsPort = 0
    return buildApplication(
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

extension ServiceParts {
    /// `GET path` on the metrics port, as Prometheus scrapes it (no token), while the application runs.
    /// - Returns: The status line and the body.
    func scrape(_ path: String = "/metrics") async throws -> (status: String, body: String) {
        let port = await metricsPort.value()
        let answer = try await RawHTTP.exchange(
            port: port,
            "GET \(path) HTTP/1.1\r\nHost: prometheus\r\nConnection: close\r\n\r\n"
        )
        let (head, body) = answer.split(separator: "\r\n\r\n", maxSplits: 1).map(String.init).paddedPair
        return (head.split(separator: "\r\n").first.map(String.init) ?? "", body)
    }

    /// The Prometheus text of `/metrics`.
    func metricsText() async throws -> String {
        let (status, body) = try await scrape()
        #expect(status == "HTTP/1.1 200 OK")
        return body
    }
}

extension Array where Element == String {
    /// The first two elements, "" for a missing one.
    fileprivate var paddedPair: (String, String) { (first ?? "", dropFirst().first ?? "") }
}

extension TestClientProtocol {
    /// Sends a request with an optional JSON body as `caller` (by default, as `TestCaller.inferred`)
    /// and returns the response.
    @discardableResult
    func send(
        _ method: HTTPRequest.Method,
        _ uri: String,
        headers: HTTPFields = [:],
        json: String? = nil,
        caller: TestCaller? = nil
    ) async throws -> TestResponse {
        var headers = headers
        if json != nil, headers[.contentType] == nil { headers[.contentType] = "application/json" }
        if let authorization = try await (caller ?? .inferred(path: uri, json: json)).authorization() {
            headers[.authorization] = authorization
        }
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
        {
            $0
        }
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

extension RateLimitPolicy {
    /// Limits no test of another rule meets.
    static let unlimitedForTests: RateLimitPolicy = {
        var policy = RateLimitPolicy()
        let unlimited = RateLimit(perSecond: 1_000_000, burst: 1_000_000)
        policy.locationReports = unlimited
        policy.rideRequests = unlimited
        policy.requests = unlimited
        return policy
    }()
}
