import DequeModule
import DispatchCore
import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1

/// The first handler each HTTP request meets after parsing (right after NIO's HTTP/1.1 decoder, before
/// Hummingbird's own handlers), on the connection's event loop. It answers location reports and offer
/// polls itself, straight from the event loop, after asking admission control whether to take them
/// (`AdmissionControl`; a shed report gets `503` with `Retry-After`); every other request goes on to
/// Hummingbird's router, where `AdmissionMiddleware` asks the same.
///
/// Why: a location report is most of the traffic (5,000 a second at the `city` load), and the
/// router's machinery around it (an async sequence per connection, a task resumption per request
/// part, a request context, the middleware chain, a response writer, the conversion to and from Swift
/// HTTP Types) cost several times the report itself (docs/BENCHMARKS.md, "Where a request's CPU
/// goes"). Answered here, a report is decoded, applied and answered in one pass on the thread that
/// read it, and shedding a request costs about as little, which is what lets an overloaded service
/// refuse work cheaply. Every answer's content stays defined in one place: `LocationReports` applies
/// reports on both paths, `APIError` words every error on both.
///
/// A connection's first request always goes to the router, whatever it is: NIO's WebSocket upgrade
/// handler decides on it whether the connection upgrades.
///
/// Order: requests are processed, and answered, in the order they came, as HTTP/1.1 pipelining
/// requires. While a request passed on to the router is unanswered (a pipelining client), a request
/// answered here waits, fully read, until it is; a request for the router that follows one waiting
/// here is held back until that one is served, so the router never reads state an earlier request
/// has yet to change. At most `maximumQueued` requests wait before the handler stops reading the
/// socket. A request to upgrade the connection (the driver channel's WebSocket) is passed on and the
/// handler leaves the pipeline, which then carries WebSocket frames.
final class EdgeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// How many requests may wait in `queue` before the handler stops reading.
    static let maximumQueued = 64

    /// A request answered here, fully read.
    private struct Local {
        let work: EdgeWork
        let head: HTTPRequestHead
        let started: ContinuousClock.Instant
        let body: ByteBuffer
    }

    /// Requests in arrival order whose answers have not been written.
    private enum Slot {
        /// Passed on to the router; its answer ends with an `.end` written through this handler.
        case forwarded
        /// To be answered here, once everything before it is answered.
        case local(Local)
        /// For the router, held back until everything before it is answered, so the router never
        /// reads state a request before it has not changed yet.
        case held([HTTPServerRequestPart], complete: Bool)

        var isForwarded: Bool {
            if case .forwarded = self { true } else { false }
        }
    }

    /// The request being read.
    private enum Reading {
        case none
        case forwarding
        case holding
        case local(EdgeWork, HTTPRequestHead, started: ContinuousClock.Instant, body: ByteBuffer?)
        /// The rest of a request already decided (too large).
        case discarding
    }

    private let services: EdgeServices
    private var reading = Reading.none
    private var queue = Deque<Slot>()
    private var readPending = false
    /// Whether any request on this connection went to the router: only the first can be an upgrade.
    private var forwardedAny = false
    /// A graceful-shutdown request that arrived mid-request, delivered once it is answered.
    private var pendingQuiesce: Any?

    /// Whether this connection came over `MAX_CONNECTIONS` (see `ConnectionBudget`).
    private let overBudget: Bool

    init(services: EdgeServices, overBudget: Bool = false) {
        self.services = services
        self.overBudget = overBudget
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch (part, reading) {
        case (.head(let head), _):
            let started = ContinuousClock.now
            if !forwardedAny {
                // The connection's first request always goes to the router: NIO's upgrade handler
                // decides on it whether the connection upgrades, and Hummingbird waits for that.
                reading = .forwarding
                queue.append(.forwarded)
                let first = overBudget ? ConnectionBudget.overBudget(head) : services.firstRequest(head)
                forward(.head(first), context)
            } else if let work = services.work(for: head) {
                reading = .local(work, head, started: started, body: nil)
            } else if queue.allSatisfy(\.isForwarded) {
                reading = .forwarding
                queue.append(.forwarded)
                forward(part, context)
            } else {
                reading = .holding
                queue.append(.held([part], complete: false))
            }
        case (_, .forwarding):
            context.fireChannelRead(data)
        case (_, .holding):
            guard case .held(var parts, _) = queue.last else { return }
            parts.append(part)
            let complete = if case .end = part { true } else { false }
            queue[queue.count - 1] = .held(parts, complete: complete)
        case (.body(var body), .local(let work, let head, let started, var collected)):
            guard (collected?.readableBytes ?? 0) + body.readableBytes <= APIError.maximumBodyBytes else {
                reading = .discarding
                let reject = Local(
                    work: .reject(.payloadTooLarge),
                    head: head,
                    started: started,
                    body: ByteBuffer()
                )
                queue.append(.local(reject))
                drain(context)
                return
            }
            if collected == nil {
                collected = body
            } else {
                collected?.writeBuffer(&body)
            }
            reading = .local(work, head, started: started, body: collected)
        case (.end, .local(let work, let head, let started, let body)):
            queue.append(.local(Local(work: work, head: head, started: started, body: body ?? ByteBuffer())))
            drain(context)
        case (.body, .none), (.body, .discarding), (.end, .none), (.end, .discarding):
            break
        }
        if case .end = part { reading = .none }
        deliverQuiesceIfIdle(context)
    }

    /// Passes one part on to the router (its request is already in the queue as `.forwarded`).
    private func forward(_ part: HTTPServerRequestPart, _ context: ChannelHandlerContext) {
        if case .head(var head) = part {
            // Only the edge marks a connection over budget; a client's own copy of the mark goes.
            if !overBudget, head.headers.contains(name: ConnectionBudget.overBudgetHeader) {
                head.headers.remove(name: ConnectionBudget.overBudgetHeader)
            }
            let mayUpgrade = !forwardedAny
            forwardedAny = true
            context.fireChannelRead(wrapInboundOut(.head(head)))
            // NIO's upgrade handler looks at the first request it sees: if that one upgrades, the
            // connection carries WebSocket frames from here on, and this handler must not be in their
            // way. (Nothing of ours can be waiting: the queue held only this request.)
            if mayUpgrade, head.headers.contains(name: "upgrade") {
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            }
        } else {
            context.fireChannelRead(wrapInboundOut(part))
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Hummingbird closes idle connections at shutdown: not with a request of ours half read or
        // unanswered.
        if event is ChannelShouldQuiesceEvent, !isIdle {
            pendingQuiesce = event
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private var isIdle: Bool {
        guard case .none = reading else { return false }
        return queue.allSatisfy(\.isForwarded)
    }

    private func deliverQuiesceIfIdle(_ context: ChannelHandlerContext) {
        if let quiesce = pendingQuiesce, isIdle {
            pendingQuiesce = nil
            context.fireUserInboundEventTriggered(quiesce)
        }
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Only the router's answers pass through here; this handler's own are written below it.
        let part = unwrapOutboundIn(data)
        if overBudget, case .head(var head) = part {
            // The router closes the connection after this answer; the client is told so.
            head.headers.replaceOrAdd(name: "Connection", value: "close")
            context.write(wrapOutboundOut(.head(head)), promise: promise)
            return
        }
        let ended = if case .end = part { true } else { false }
        context.write(data, promise: promise)
        guard ended else { return }
        if case .forwarded = queue.first { queue.removeFirst() }
        drain(context)
        deliverQuiesceIfIdle(context)
    }

    func read(context: ChannelHandlerContext) {
        // Back-pressure for pipelined requests waiting here: stop reading while too many wait.
        guard queue.count < Self.maximumQueued else {
            readPending = true
            return
        }
        context.read()
    }

    // MARK: Serving

    /// Works through the queue from the front: answers local requests, passes held ones on, and stops
    /// at the first request the router has not answered yet.
    private func drain(_ context: ChannelHandlerContext) {
        loop: while let first = queue.first {
            switch first {
            case .forwarded:
                break loop
            case .local(let local):
                queue.removeFirst()
                answer(context, local)
            case .held(let parts, let complete):
                // It goes to the router now; its answer is awaited like any forwarded request's.
                queue[queue.startIndex] = .forwarded
                for part in parts { forward(part, context) }
                // Handlers above deliver what they read at the end of a read; this may be outside one.
                context.fireChannelReadComplete()
                if !complete { reading = .forwarding }
                break loop
            }
        }
        if readPending, queue.count < Self.maximumQueued {
            readPending = false
            context.read()
        }
    }

    private func answer(_ context: ChannelHandlerContext, _ local: Local) {
        let outcome: EdgeAnswer
        switch local.work {
        case .reject(let error):
            outcome = .failure(error)
        case .shed(_, let reason):
            outcome = .shed(services.admission.shedError(reason), services.shedBodies[reason] ?? ByteBuffer())
        case .locationReport(let driverID):
            do {
                try services.reports.apply(rawDriverID: driverID, body: local.body)
                outcome = .noContent
            } catch {
                outcome = .failure(failure(error, method: .put, local))
            }
        case .offerPoll(let driverID):
            do {
                outcome = try services.offers.offer(rawDriverID: driverID).map(EdgeAnswer.json) ?? .noContent
            } catch {
                outcome = .failure(failure(error, method: .get, local))
            }
        }
        write(outcome, for: local, context)
    }

    private func failure(_ error: any Error, method: HTTPRequest.Method, _ local: Local) -> APIError {
        let apiError = APIError(from: error, method: method, path: local.head.uri)
        if apiError.status == .internalServerError {
            services.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
        }
        return apiError
    }

    private func write(_ outcome: EdgeAnswer, for local: Local, _ context: ChannelHandlerContext) {
        var response: HTTPResponseHead
        var body: ByteBuffer?
        switch outcome {
        case .noContent:
            response = services.date.noContent()
        case .json(let json):
            response = HTTPResponseHead(
                version: .http1_1,
                status: .ok,
                headers: [
                    "Date": services.date.current(), "Server": HTTPDateCache.server,
                    "Content-Type": "application/json; charset=utf-8", "Content-Length": String(json.readableBytes),
                ]
            )
            body = json
        case .failure(let error), .shed(let error, _):
            let json = if case .shed(_, let cached) = outcome { cached } else { error.jsonBody }
            response = HTTPResponseHead(
                version: .http1_1,
                status: HTTPResponseStatus(statusCode: error.status.code),
                headers: [
                    "Date": services.date.current(), "Server": HTTPDateCache.server,
                    "Content-Type": "application/json; charset=utf-8", "Content-Length": String(json.readableBytes),
                ]
            )
            if let seconds = error.retryAfterSeconds {
                response.headers.add(name: "Retry-After", value: String(seconds))
            }
            body = json
        }
        let keepAlive = local.head.isKeepAlive
        response.version = local.head.version
        if !keepAlive {
            response.headers.replaceOrAdd(name: "Connection", value: "close")
        } else if local.head.version.major == 1, local.head.version.minor == 0 {
            response.headers.replaceOrAdd(name: "Connection", value: "keep-alive")
        }
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        if let body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive { written.assumeIsolated().whenComplete { _ in context.close(promise: nil) } }
        let status = Int(response.status.code)
        switch local.work {
        case .locationReport where status == 204:
            services.reportMetrics.record(since: local.started)
        case .locationReport:
            services.requestMetrics.record(
                route: EdgeWork.locationReportRoute,
                method: .put,
                status: status,
                since: local.started
            )
        case .reject where local.head.method == .PUT:
            services.requestMetrics.record(
                route: EdgeWork.locationReportRoute,
                method: .put,
                status: status,
                since: local.started
            )
        case .offerPoll, .reject:
            services.requestMetrics.record(
                route: EdgeWork.offerRoute,
                method: .get,
                status: status,
                since: local.started
            )
        case .shed:
            break  // Counted by admission control, by class and reason.
        }
    }
}

/// What the edge answers.
enum EdgeAnswer {
    case noContent
    /// `200` with a JSON body.
    case json(ByteBuffer)
    case failure(APIError)
    /// A shed request's error, with its body encoded once for all of them (shedding must be cheap).
    case shed(APIError, ByteBuffer)
}

/// A request the edge answers itself, and how.
enum EdgeWork: Equatable {
    /// `PUT /v1/drivers/{driverId}/location`, with an ID of plain characters (anything else, such as a
    /// percent-encoded ID, goes to the router, which decodes it and words the error).
    case locationReport(driverID: String)
    /// `GET /v1/drivers/{driverId}/offer` (a polling driver app's most frequent request), likewise.
    case offerPoll(driverID: String)
    /// Shed by admission control.
    case shed(RequestClass, ShedReason)
    /// A request refused without being served: too large, over its caller's rate limit, not JSON.
    case reject(APIError)

    /// The driver whose report or poll this is.
    var driverID: String? {
        switch self {
        case .locationReport(let id), .offerPoll(let id): id
        case .shed, .reject: nil
        }
    }

    /// Recognises a location report or an offer poll.
    init?(_ head: HTTPRequestHead) {
        switch head.method {
        case .PUT:
            guard let id = Self.driverID(in: head.uri, before: "/location") else { return nil }
            self = .locationReport(driverID: id)
        case .GET:
            guard let id = Self.driverID(in: head.uri, before: "/offer") else { return nil }
            self = .offerPoll(driverID: id)
        default:
            return nil
        }
    }

    /// The plain driver ID of `/v1/drivers/{id}<suffix>` (no query, no percent-encoding), if the path
    /// is that.
    private static func driverID(in path: String, before suffix: String) -> String? {
        let prefix = "/v1/drivers/"
        guard path.hasPrefix(prefix), path.hasSuffix(suffix), path.utf8.count > prefix.utf8.count + suffix.utf8.count
        else { return nil }
        let id = String(path.dropFirst(prefix.count).dropLast(suffix.count))
        return DriverID.isValid(id) ? id : nil
    }

    /// The location report route's name in request metrics.
    static let locationReportRoute = "/v1/drivers/{driverId}/location"
    /// The offer route's name in request metrics.
    static let offerRoute = "/v1/drivers/{driverId}/offer"
}

/// What every connection's `EdgeHandler` shares.
struct EdgeServices: Sendable {
    let reports: LocationReports
    let offers: OfferPolls
    let admission: AdmissionControl
    let requestMetrics: RequestMetricsRecorder
    let date: HTTPDateCache
    let logger: Logger
    /// The metrics of the edge's most frequent answer, looked up once.
    let reportMetrics: RequestMetricsRecorder.Handles
    /// The body of each shed answer, encoded once.
    let shedBodies: [ShedReason: ByteBuffer]
    /// The connections open, against `MAX_CONNECTIONS`.
    let connections: ConnectionBudget
    /// Tokens verified before: the edge serves only requests whose token it recognises.
    let verifier: TokenVerifier
    /// Each caller's rate limits, shared with the router and the driver channel.
    let limiter: RateLimiter
    /// Whether this replica leads, and where the leader is when not (`StandbyForwarder`).
    let leadership: Leadership

    init(
        reports: LocationReports,
        offers: OfferPolls,
        admission: AdmissionControl,
        connections: ConnectionBudget,
        verifier: TokenVerifier,
        limiter: RateLimiter,
        requestMetrics: RequestMetricsRecorder,
        date: HTTPDateCache,
        leadership: Leadership,
        logger: Logger
    ) {
        self.leadership = leadership
        self.reports = reports
        self.offers = offers
        self.admission = admission
        self.connections = connections
        self.verifier = verifier
        self.limiter = limiter
        self.requestMetrics = requestMetrics
        self.date = date
        self.logger = logger
        reportMetrics = requestMetrics.handles(route: EdgeWork.locationReportRoute, method: .put, status: 204)
        shedBodies = Dictionary(
            uniqueKeysWithValues: ShedReason.allCases.map { ($0, admission.shedError($0).jsonBody) }
        )
    }

    /// What the edge does with a request after the connection's first: a location report or an offer
    /// poll it sheds or answers itself; anything else goes to the router (nil), where
    /// `AdmissionMiddleware` decides.
    /// A request is served here only when its token is one verified before, of the driver its path
    /// names (or auth is disabled); anything else (no token, a token not seen yet, someone else's) goes to
    /// the router, which verifies it and words the error.
    ///
    /// Then, in the router's order: shed under overload, refused over the caller's rate limit (`429`),
    /// refused when its body is not declared JSON (`415`).
    func work(for head: HTTPRequestHead) -> EdgeWork? {
        guard let work = EdgeWork(head) else { return nil }
        var caller = Caller.unauthenticated
        if !verifier.isDisabled {
            guard let cached = verifier.cachedCaller(authorization: head.headers.first(name: "authorization")),
                cached.role == .driver, cached.subject == work.driverID
            else { return nil }
            caller = cached
        }
        let isReport = if case .locationReport = work { true } else { false }
        let requestClass: RequestClass = isReport ? .locationReport : .read
        if let reason = admission.shedReason(for: requestClass) { return .shed(requestClass, reason) }
        if let refusal = limiter.admit(isReport ? .locationReport : .request, for: caller) { return .reject(refusal) }
        if head.hasBody, !JSONBody.isJSON(contentType: head.headers.first(name: "content-type")) {
            return .reject(.unsupportedMediaType)
        }
        return work
    }

    /// A connection's first request as the router gets it. A request to upgrade to a driver channel
    /// that cannot be one (a bad driver ID) goes on as a plain request that closes the connection,
    /// so that the channel's route answers it with the API's error (NIO's upgrade handler could
    /// only answer a bare 400) and NIO's parser, which reads nothing after an upgrade request, is
    /// not left waiting.
    ///
    /// So does an upgrade whose token is not one verified before (`UpgradeAuthenticationHandler`
    /// verifies it first) for the driver the path names: the route answers it `401` or `403`.
    func firstRequest(_ head: HTTPRequestHead) -> HTTPRequestHead {
        guard head.method == .GET, head.headers.contains(name: "upgrade") else { return head }
        guard DriverChannel.accepts(head.uri) else { return head.plainAndClosing() }
        guard let driver = DriverChannel.driverID(in: head.uri), !verifier.isDisabled else { return head }
        let caller = verifier.cachedCaller(authorization: head.headers.first(name: "authorization"))
        guard let caller, (try? caller.mayActAs(driver)) != nil else { return head.plainAndClosing() }
        return head
    }
}

extension HTTPRequestHead {
    /// Whether a body follows the head (a `Content-Length` above zero, or a chunked one).
    var hasBody: Bool {
        if let length = headers.first(name: "content-length") { return length != "0" }
        return headers.contains(name: "transfer-encoding")
    }

    /// This request without an upgrade, closing the connection after its answer: what the router gets
    /// for a first request that must not upgrade.
    func plainAndClosing() -> HTTPRequestHead {
        var plain = self
        plain.headers.remove(name: "upgrade")
        plain.headers.replaceOrAdd(name: "connection", value: "close")
        return plain
    }
}
