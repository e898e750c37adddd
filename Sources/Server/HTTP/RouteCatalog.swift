import Hummingbird
import Synchronization

/// The routes the service serves, recorded as they are registered, so that a request for a known path
/// with a method it does not serve is answered `405 Method Not Allowed` with an `Allow` header instead
/// of a bare 404 (Hummingbird's router does not distinguish the two).
final class RouteCatalog: Sendable {
    private let routes = Mutex<[(method: HTTPRequest.Method, segments: [Substring])]>([])

    /// Registers a handler on the router and records its method and path.
    /// - Parameters:
    ///   - method: The HTTP method.
    ///   - path: The path pattern, e.g. `/v1/drivers/:driverId/location`.
    ///   - router: The router.
    ///   - handler: The handler.
    func register<Context: RequestContext, Output: ResponseGenerator>(
        _ method: HTTPRequest.Method,
        _ path: String,
        on router: Router<Context>,
        use handler: @escaping @Sendable (Request, Context) async throws -> Output
    ) {
        router.on(RouterPath(path), method: method, use: handler)
        routes.withLock { $0.append((method, path.split(separator: "/"))) }
    }

    /// The methods served on a concrete path, empty when no route matches it.
    func allowedMethods(for path: String) -> [HTTPRequest.Method] {
        let requested = path.split(separator: "/")
        return routes.withLock { routes in
            routes.filter { route in
                route.segments.count == requested.count
                    && zip(route.segments, requested).allSatisfy { pattern, segment in
                        pattern.hasPrefix(":") || pattern == segment
                    }
            }
            .map(\.method)
        }
    }
}
