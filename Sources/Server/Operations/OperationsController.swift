import Hummingbird

/// The probes on the API port: `/healthz`, `/readyz` (no token, never shed). Metrics have their own
/// port (`MetricsServer`).
struct OperationsController<Context: RequestContext> {
    let readiness: Readiness
    let persistence: Persistence

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
    }
}
