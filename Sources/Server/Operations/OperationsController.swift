import Hummingbird

/// The probes on the API port: `/healthz`, `/readyz` (no token, never shed). Metrics have their own
/// port (`MetricsServer`).
///
/// Ready means "this process can serve", not "every dependency is healthy": while the database is
/// unreachable, location reports, nearby and reads from memory still work (commands answer `503
/// database_unavailable`), so a database blip must not take the region's only pod out of its Service.
///
/// With a standby (`Leadership`), both replicas of a region are ready: the leader serves, the standby
/// forwards each connection to it (`StandbyForwarder`), so a rollout's new replicas count as available
/// while they wait for the lock. A standby that knows no leader, or a deposed leader, is not ready.
struct OperationsController<Context: RequestContext> {
    let readiness: Readiness
    let leadership: Leadership

    struct Status: ResponseEncodable {
        let status: String
    }

    func addRoutes(to router: Router<Context>, catalog: RouteCatalog) {
        catalog.register(.get, "/healthz", on: router) { _, _ in Status(status: "ok") }
        catalog.register(.get, "/readyz", on: router) { _, _ in
            guard readiness.isReady else {
                throw APIError(.serviceUnavailable, code: "draining", "the service is shutting down")
            }
            switch leadership.role {
            case .leader:
                return Status(status: "ready")
            case .standby:
                guard leadership.forwardingAddress != nil else {
                    throw APIError(.serviceUnavailable, code: "no_leader", "a standby that knows no leader yet")
                }
                return Status(status: "standby")
            case .deposed:
                throw APIError.notLeader
            }
        }
    }
}
