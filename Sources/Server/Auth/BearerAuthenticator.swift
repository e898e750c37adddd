import Hummingbird
import HummingbirdAuth

/// Verifies the bearer token of every request but the probes and sets the context's `identity` to its
/// `Caller`: a request without a valid token goes no further (`401`, with `WWW-Authenticate: Bearer`).
struct BearerAuthenticator<Context: AuthRequestContext<Caller>>: AuthenticatorMiddleware {
    typealias Identity = Caller

    let verifier: TokenVerifier

    /// What anyone may ask: the probes, and the console's page (which holds no data: what it shows
    /// comes through the ops routes, with an operator's token). Metrics are on their own port.
    static var publicPaths: Set<String> { PublicPaths.all }

    func authenticate(request: Request, context: Context) async throws -> Caller? {
        if Self.publicPaths.contains(request.uri.path) { return nil }
        return try await verifier.caller(authorization: request.headers[.authorization])
    }
}

/// The paths that need no token, built once (the authenticator is generic, so it cannot hold a stored
/// constant itself; every request is checked against this set).
enum PublicPaths {
    static let all: Set<String> = Set(["/healthz", "/readyz"]).union(ConsolePage.paths)
}
