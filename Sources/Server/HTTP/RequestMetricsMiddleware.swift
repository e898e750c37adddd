import Hummingbird
import Metrics
import Synchronization

/// Counts requests and records their duration by route, method and status, under the names
/// Hummingbird's `MetricsMiddleware` uses (`http_server_requests_total`,
/// `http_server_request_duration_seconds`, `http_server_request_errors_total`, renamed in
/// `PrometheusMetricsFactory.dispatchService`).
///
/// Written here rather than using Hummingbird's because that one records after the body is written by
/// wrapping every response body in a closure, which turns each small response into three separate
/// writes and flushes (head, body, end) instead of one: measured at about a fifth of a location
/// report's cost (docs/BENCHMARKS.md). This one records when the handler returns, which for every
/// route but the event streams is when the response is complete; for a stream it is the time to its
/// first byte.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Shared with the edge, which records the requests it answers itself under the same names.
    let recorder: RequestMetricsRecorder

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            recorder.record(
                route: context.endpointPath ?? "unknown",
                method: request.method,
                status: response.status.code,
                since: started
            )
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            recorder.record(
                route: context.endpointPath ?? "not_found",
                method: request.method,
                status: status,
                since: started
            )
            throw error
        }
    }
}

/// The metric handles of each (route, method, status), created on first use.
final class RequestMetricsRecorder: Sendable {
    struct Key: Hashable {
        let route: String
        let method: HTTPRequest.Method
        let status: Int
    }

    /// One (route, method, status)'s metrics.
    struct Handles: Sendable {
        let requests: Counter
        let duration: Timer
        /// Only for error statuses, so that successful routes export no zero error series.
        let errors: Counter?

        /// Counts one request that began at `started` and ends now.
        func record(since started: ContinuousClock.Instant) {
            requests.increment()
            duration.record(duration: ContinuousClock.now - started)
            errors?.increment()
        }
    }

    private let handles = Mutex<[Key: Handles]>([:])

    /// Counts one request and records its duration.
    /// - Parameters:
    ///   - route: The route's pattern, e.g. `/v1/drivers/{driverId}/location`.
    ///   - method: The request's method.
    ///   - status: The answer's status code.
    ///   - started: When handling began.
    ///
    /// Statuses from 400 up count in `http_server_request_errors_total` too.
    func record(route: String, method: HTTPRequest.Method, status: Int, since started: ContinuousClock.Instant) {
        handles(route: route, method: method, status: status).record(since: started)
    }

    /// The metric handles of one (route, method, status), for a caller that records it often and looks
    /// it up once.
    func handles(route: String, method: HTTPRequest.Method, status: Int) -> Handles {
        let key = Key(route: route, method: method, status: status)
        return handles.withLock { handles in
            if let existing = handles[key] { return existing }
            let dimensions = [
                ("http.route", route), ("http.request.method", method.rawValue),
                ("http.response.status_code", String(status)),
            ]
            let created = Handles(
                requests: Counter(label: "hb.requests", dimensions: dimensions),
                duration: Timer(
                    label: "http.server.request.duration",
                    dimensions: dimensions,
                    preferredDisplayUnit: .seconds
                ),
                errors: status >= 400
                    ? Counter(
                        label: "hb.request.errors",
                        dimensions: [
                            ("http.route", route), ("http.request.method", method.rawValue),
                            ("error.type", String(status)),
                        ]
                    ) : nil
            )
            handles[key] = created
            return created
        }
    }
}
