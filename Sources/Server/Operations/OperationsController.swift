import DispatchCore
import Hummingbird
import Prometheus

/// Probes and metrics for operators: `/healthz`, `/readyz`, `/metrics`.
struct OperationsController<Context: RequestContext> {
    let dispatcher: Dispatcher
    let readiness: Readiness
    let persistence: Persistence
    let metrics: ServiceMetrics
    let registry: PrometheusCollectorRegistry
    let streams: StreamLimits
    let limits: CapacityLimits

    struct Status: ResponseEncodable {
        let status: String
    }

    func addRoutes(to router: Router<Context>, catalog: RouteCatalog) {
        catalog.register(.get, "/healthz", on: router) { _, _ in Status(status: "ok") }
        catalog.register(.get, "/readyz", on: router) { _, _ in
            guard readiness.isReady else {
                throw APIError(.serviceUnavailable, code: "draining", "the service is shutting down")
            }
            guard persistence.isReady else {
                throw APIError(.serviceUnavailable, code: "database_unavailable", "the database is unreachable")
            }
            return Status(status: "ready")
        }
        catalog.register(.get, "/metrics", on: router) { _, _ in
            metrics.recordState(of: dispatcher, streams: streams, limits: limits)
            var buffer = ByteBuffer()
            buffer.writeBytes(registry.emitToBuffer())
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: buffer)
            )
        }
    }
}
