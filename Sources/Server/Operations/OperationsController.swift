import Hummingbird

/// The probes on the API port: `/healthz`, `/readyz` (no token, never shed). Metrics have their own
/// port (`MetricsServer`).
///
/// Ready means "this process can serve", not "every dependency is healthy": while the database is
/// unreachable, location reports, nearby and reads from memory still work (commands answer `503
/// database_unavailable`), so a database blip must not take the region's only pod out of its Service.
struct OperationsController<Context: RequestContext> {
    let readiness: Readiness

    struct Status: ResponseEncodable {
        let status: String
    }

    func addRoutes(to router: Router<Context>, catalog: RouteCatalog) {
        catalog.register(.get, "/healthz", on: router) { _, _ in Status(status: "ok") }
        catalog.register(.get, "/readyz", on: router) { _, _ in
            guard readiness.isReady else {
                throw APIError(.serviceUnavailable, code: "draining", "the service is shutting down")
            }
            return Status(status: "ready")
        }
    }
}
