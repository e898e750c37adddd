import HTTPTypes
import Hummingbird

/// Refuses what only the leader may do on a replica that does not lead (`503 not_leader`, retry):
/// a standby reaches the router only when it knows no leader to forward to, and a deposed leader
/// only until it stops. Location reports and nearby searches are still served from this replica's
/// own index: nothing of them is durable, and a standby that takes over starts with fresh drivers.
struct LeadershipMiddleware<Context: RequestContext>: RouterMiddleware {
    let leadership: Leadership

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard leadership.isLeader || Self.servedByAnyReplica(request) else { throw APIError.notLeader }
        return try await next(request, context)
    }

    /// The probes, location reports and nearby searches.
    static func servedByAnyReplica(_ request: Request) -> Bool {
        let path = request.uri.path
        guard path.hasPrefix("/v1/") else { return true }
        switch request.method {
        case .put: return path.hasPrefix("/v1/drivers/") && path.hasSuffix("/location")
        case .get: return path == "/v1/drivers/nearby"
        default: return false
        }
    }
}
