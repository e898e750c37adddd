import Hummingbird
import Logging

/// Logs each request (method and path) at `level` through the request's logger, so the line carries
/// its request ID. Unlike Hummingbird's `LogRequestsMiddleware`, it never logs the query string: a
/// nearby search carries its coordinates there, and no log holds a precise location (docs/SECURITY.md).
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let level: Logger.Level

    init(_ level: Logger.Level) {
        self.level = level
    }

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        context.logger.log(
            level: level,
            "Request",
            metadata: [
                "hb.request.path": .string(request.uri.path),
                "hb.request.method": .string(request.method.rawValue),
            ]
        )
        return try await next(request, context)
    }
}
