import DispatchCore
import Foundation
import Geo
import Hummingbird
import Logging
import NIOCore

/// An error answered to a client: an HTTP status and the body `{"error":{"code","message"}}`.
///
/// This is the one place where errors of every layer (the core's `DispatchError`, `GeoError`,
/// Hummingbird's `HTTPError`, request decoding) are turned into HTTP answers; see `init(from:)`.
struct APIError: Error, HTTPResponseError, Equatable {
    let status: HTTPResponse.Status
    /// A stable `snake_case` code clients can switch on.
    let code: String
    /// What was wrong, for people.
    let message: String
    /// When the client may try again, for `503` and `429` (the `Retry-After` header).
    let retryAfterSeconds: Int?

    init(_ status: HTTPResponse.Status, code: String, _ message: String, retryAfterSeconds: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
    }

    struct Body: Encodable {
        struct Detail: Encodable {
            let code: String
            let message: String
        }

        let error: Detail
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try context.responseEncoder.encode(
            Body(error: .init(code: code, message: message)),
            from: request,
            context: context
        )
        response.status = status
        if let retryAfterSeconds { response.headers[.retryAfter] = String(retryAfterSeconds) }
        if status == .unauthorized {
            // RFC 6750 §3: name the scheme; say the token was bad when there was one.
            response.headers[.wwwAuthenticate] = code == "missing_token" ? "Bearer" : #"Bearer error="invalid_token""#
        }
        return response
    }

    /// The JSON body, for answers written below the router (the edge, the driver channel).
    var jsonBody: ByteBuffer {
        let data = (try? JSONBody.encoder.encode(Body(error: .init(code: code, message: message)))) ?? Data()
        return ByteBuffer(bytes: data)
    }
}

extension APIError {
    /// Maps any error thrown while handling a request to what the client is told.
    /// - Parameters:
    ///   - error: The error.
    ///   - request: The request, to name its method and path in a 404 or 405.
    init(from error: any Error, request: Request) {
        self.init(from: error, method: request.method, path: request.uri.path)
    }

    /// Maps any error to what the client is told.
    /// - Parameters:
    ///   - error: The error.
    ///   - method: The request's method, named in a 404 or 405.
    ///   - path: The request's path, named in a 404 or 405.
    init(from error: any Error, method: HTTPRequest.Method, path: String) {
        switch error {
        case let error as APIError:
            self = error
        case let error as DispatchError:
            self.init(
                Self.status(of: error.code),
                code: error.code.description,
                error.message,
                retryAfterSeconds: error.code == .capacityExhausted ? 30 : nil
            )
        case let error as GeoError:
            switch error.code {
            case .invalidLatitude, .invalidLongitude:
                self.init(.badRequest, code: "invalid_coordinate", error.message)
            default:
                self.init(.badRequest, code: "invalid_query", error.message)
            }
        case let error as CommandNotDurable:
            switch error {
            case .unavailable:
                self.init(
                    .serviceUnavailable,
                    code: "database_unavailable",
                    "the database is unreachable or behind; the command was not applied, retry later",
                    retryAfterSeconds: 2
                )
            case .late:
                self.init(
                    .serviceUnavailable,
                    code: "commit_timeout",
                    "the command was applied but is not yet durable; re-read the ride, or retry with the same Idempotency-Key"
                )
            case .refused:
                // The reason names the database's constraint and message: for the log and the dead
                // letter, not for the client.
                self.init(
                    .internalServerError,
                    code: "storage_refused",
                    "the database refused to store this command's outcome; it is kept for an operator to repair"
                )
            case .notLeader:
                self = .notLeader
            }
        case is StorageUnavailable:
            self.init(
                .serviceUnavailable,
                code: "database_unavailable",
                "the database cannot answer this read now; retry later",
                retryAfterSeconds: 2
            )
        case is NIOTooManyBytesError:
            self = .payloadTooLarge
        case let error as any HTTPResponseError:
            switch error.status {
            case .notFound:
                self.init(.notFound, code: "not_found", "no route for \(method) \(path)")
            case .methodNotAllowed:
                self.init(
                    .methodNotAllowed,
                    code: "method_not_allowed",
                    "\(method) is not allowed on \(path)"
                )
            case .contentTooLarge:
                self = .payloadTooLarge
            default:
                let code = error.status.reasonPhrase.lowercased().split(separator: " ").joined(separator: "_")
                self.init(
                    error.status,
                    code: code.isEmpty ? "http_\(error.status.code)" : code,
                    error.status.reasonPhrase
                )
            }
        default:
            self = .internalError
        }
    }

    /// The HTTP status of each core error: the one table of it.
    private static func status(of code: DispatchError.Code) -> HTTPResponse.Status {
        switch code {
        case .driverNotFound, .rideNotFound:
            .notFound
        case .notYourRide:
            .forbidden
        case .capacityExhausted:
            .serviceUnavailable
        case .outsideServiceArea, .invalidRecordedAt:
            .unprocessableContent
        case .driverBusy, .riderHasActiveRide, .idempotencyKeyReused, .transitionNotAllowed, .offerNotHeld,
            .rideNotHeld:
            .conflict
        default:
            .badRequest
        }
    }

    /// The largest request body the service reads.
    static let maximumBodyBytes = 16 * 1024

    static let payloadTooLarge = APIError(
        .contentTooLarge,
        code: "payload_too_large",
        "request body is larger than \(maximumBodyBytes / 1024) KiB"
    )

    /// A command or stream reached a replica that does not lead its region (a standby that knows no
    /// leader to forward to, or a leader deposed or handing over): nothing was applied; retry through
    /// the Service, which reaches the leader.
    static let notLeader = APIError(
        .serviceUnavailable,
        code: "not_leader",
        "this replica does not lead its region now; nothing was applied, retry shortly",
        retryAfterSeconds: 1
    )

    static let unsupportedMediaType = APIError(
        .unsupportedMediaType,
        code: "unsupported_media_type",
        "request body must be JSON, sent with Content-Type: application/json"
    )

    static let internalError = APIError(
        .internalServerError,
        code: "internal_error",
        "internal error; it has been logged"
    )
}

/// Turns every error thrown below it into an `APIError` response, and logs server-side failures.
///
/// Sits inside the metrics middleware, so request metrics see the final status code.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Consulted on a 404 to answer 405 for a known path with a method it does not serve.
    let catalog: RouteCatalog

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            var apiError = APIError(from: error, request: request)
            var headers = HTTPFields()
            // The router's own 404 (no handler matched), not a handler's "no such driver".
            if let routing = error as? HTTPError, routing.status == .notFound {
                let methods = catalog.allowedMethods(for: request.uri.path)
                let allowed = methods.map(\.rawValue).joined(separator: ", ")
                if !methods.isEmpty, !methods.contains(request.method) {
                    apiError = APIError(
                        .methodNotAllowed,
                        code: "method_not_allowed",
                        "\(request.method) is not allowed on \(request.uri.path); allowed: \(allowed)"
                    )
                    headers[.allow] = allowed
                }
            }
            // 500 is a bug; other 5xx (draining, database unavailable) are deliberate answers.
            if apiError.status == .internalServerError {
                context.logger.error(
                    "request failed",
                    metadata: ["http.path": "\(request.uri.path)", "error": "\(String(reflecting: error))"]
                )
            } else {
                context.logger.debug("request rejected", metadata: ["error.code": "\(apiError.code)"])
            }
            var response = try apiError.response(from: request, context: context)
            response.headers.append(contentsOf: headers)
            return response
        }
    }
}
