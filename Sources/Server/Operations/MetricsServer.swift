import DispatchCore
import Hummingbird
import HummingbirdCore
import Logging
import Prometheus
import Synchronization

/// `/metrics` on its own port (`METRICS_PORT`, default 9090), apart from the API: the Service exposes
/// it only to Prometheus and the Ingress never routes to it (docs/SECURITY.md), so what it tells (how
/// many drivers, rides and streams there are) is not public. It needs no token and is never shed.
///
/// It runs as one of the API application's services, so it starts before the API listens and, as
/// services stop in reverse order, is still scraped while the API drains.
struct MetricsServer {
    let dispatcher: Dispatcher
    let metrics: ServiceMetrics
    let registry: PrometheusCollectorRegistry
    let streams: StreamLimits
    let limits: CapacityLimits

    /// The most connections the metrics port holds at once.
    static let maximumConnections = 32

    /// The metrics application, listening on `host:port` (port 0: any free port; `bound` says which).
    func application(host: String, port: Int, bound: BoundPort, logger: Logger) -> some ApplicationProtocol {
        let router = Router()
        router.get("/metrics") { _, _ in
            // Every figure is kept as it changes (`ServiceMetrics.recordState`): a scrape walks nothing.
            metrics.recordState(of: dispatcher, streams: streams, limits: limits)
            var buffer = ByteBuffer()
            buffer.writeBytes(registry.emitToBuffer())
            buffer.writeString(ProcessMetrics.exposition())
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: buffer)
            )
        }
        var metricsLogger = logger
        metricsLogger[metadataKey: "http.listener"] = "metrics"
        return Application(
            router: router,
            configuration: .init(
                address: .hostname(host, port: port),
                serverName: HTTPDateCache.server,
                // Prometheus holds one connection per scraper; a few more wait in the listen queue.
                availableConnectionsDelegate: MaximumAvailableConnections(Self.maximumConnections, logger: logger)
            ),
            onServerRunning: { channel in
                if let port = channel.localAddress?.port { bound.set(port) }
            },
            logger: metricsLogger
        )
    }
}

/// The port a listener bound, once it has (tests ask for port 0 and read the one they got).
final class BoundPort: Sendable {
    private let state = Mutex<(port: Int?, waiters: [CheckedContinuation<Int, Never>])>((nil, []))

    init() {}

    /// The port, if the listener is up.
    var port: Int? { state.withLock { $0.port } }

    func set(_ port: Int) {
        let waiters = state.withLock { state in
            state.port = port
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: port) }
    }

    /// Waits until the listener is up.
    func value() async -> Int {
        await withCheckedContinuation { continuation in
            let port = state.withLock { state in
                if state.port == nil { state.waiters.append(continuation) }
                return state.port
            }
            if let port { continuation.resume(returning: port) }
        }
    }
}
