import Hummingbird
import HummingbirdAuth

/// Holds every authenticated request to its caller's rate limits (`RateLimiter`): over them, `429
/// rate_limited` with `Retry-After`, before any work is done. Sits after authentication, so the
/// bucket is the verified subject's; the probes (no caller) are not limited.
struct RateLimitMiddleware<Context: AuthRequestContext<Caller>>: RouterMiddleware {
    let limiter: RateLimiter

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if let caller = context.identity, let refusal = limiter.admit(Self.action(of: request), for: caller) {
            throw refusal
        }
        return try await next(request, context)
    }

    /// Which bucket a request draws from.
    static func action(of request: Request) -> RateLimitedAction {
        let path = request.uri.path
        switch request.method {
        case .post where path == "/v1/rides":
            return .rideRequest
        case .put where path.hasPrefix("/v1/drivers/") && path.hasSuffix("/location"):
            return .locationReport
        default:
            return .request
        }
    }
}
