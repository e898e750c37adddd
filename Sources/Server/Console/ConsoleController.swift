import DispatchCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import NIOCore
import Synchronization

/// The operators' console: the page (`GET /console`, and `/` sends there), its live stream
/// (`GET /v1/ops/stream`) and the details it asks for when an operator clicks a ride or a driver
/// (`GET /v1/ops/rides/{rideId}`, `GET /v1/ops/drivers/{driverId}`).
///
/// The page itself holds no data, so anyone may load it; everything it shows comes through the ops
/// routes, which take an operator's token only. At most `maximumViewers` streams are open at once.
struct ConsoleController<Context: AuthRequestContext<Caller>> {
    let feed: OpsFeed
    let dispatcher: Dispatcher
    let viewers: ViewerCount

    /// The number of open ops streams, against a ceiling.
    final class ViewerCount: Sendable {
        let maximum: Int
        private let open = Atomic(0)

        init(maximum: Int) { self.maximum = maximum }

        var current: Int { open.load(ordering: .relaxed) }

        /// A slot, or nil when `maximum` streams are open. The slot is given back when it is released,
        /// however the stream ends, even if its body never runs (the client left before the head).
        func enter() -> Slot? {
            if open.add(1, ordering: .relaxed).newValue <= maximum { return Slot(count: self) }
            open.subtract(1, ordering: .relaxed)
            return nil
        }

        fileprivate func leave() { open.subtract(1, ordering: .relaxed) }

        /// One open stream's place.
        final class Slot: Sendable {
            private let count: ViewerCount

            fileprivate init(count: ViewerCount) { self.count = count }

            deinit { count.leave() }
        }
    }

    func addRoutes(to router: Router<Context>, catalog: RouteCatalog) {
        catalog.register(.get, "/", on: router, use: root)
        catalog.register(.get, "/console", on: router, use: page)
        catalog.register(.get, "/console/console.js", on: router) { _, _ in
            Self.asset(ConsolePage.script, type: "text/javascript; charset=utf-8")
        }
        catalog.register(.get, "/console/console.css", on: router) { _, _ in
            Self.asset(ConsolePage.css, type: "text/css; charset=utf-8")
        }
        catalog.register(.get, "/v1/ops/stream", on: router, use: stream)
        catalog.register(.get, "/v1/ops/rides/:rideId", on: router, use: ride)
        catalog.register(.get, "/v1/ops/drivers/:driverId", on: router, use: driver)
    }

    @Sendable func root(_ request: Request, context: Context) async throws -> Response {
        Response(status: .seeOther, headers: [.location: "/console"])
    }

    @Sendable func page(_ request: Request, context: Context) async throws -> Response {
        Self.asset(ConsolePage.html, type: "text/html; charset=utf-8")
    }

    private static func asset(_ text: String, type: String) -> Response {
        var headers: HTTPFields = [.contentType: type, .cacheControl: "no-cache"]
        // Everything the page needs comes from this service: no other origin may be reached.
        headers[.contentSecurityPolicy] = ConsolePage.contentSecurityPolicy
        for (name, value) in [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer")] {
            if let name = HTTPField.Name(name) { headers[name] = value }
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// `GET /v1/ops/stream`: a snapshot, then a delta per frame (see `OpsStreamEncoding`).
    @Sendable func stream(_ request: Request, context: Context) async throws -> Response {
        try Self.requireOperator(context)
        let caller = try context.caller()
        guard let slot = viewers.enter() else {
            throw APIError(
                .serviceUnavailable,
                code: "too_many_viewers",
                "\(viewers.maximum) ops streams are open; close one",
                retryAfterSeconds: 5
            )
        }
        let feed = feed
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                // The slot is held for as long as the body runs (and given back if it never does).
                defer { withExtendedLifetime(slot) {} }
                // The stream ends when the operator's token does: the page then asks for a new one.
                try await OpsStreamWriter(feed: feed, until: caller.expiresAt).run {
                    try await writer.write(ByteBuffer(string: $0))
                }
                try await writer.finish(nil)
            }
        )
    }

    /// `GET /v1/ops/rides/{rideId}`: the ride now, why each driver was offered it, and its recent events.
    @Sendable func ride(_ request: Request, context: Context) async throws -> OpsRideResponse {
        try Self.requireOperator(context)
        let id = try RideID(context.parameters.get("rideId") ?? "")
        let ride = dispatcher.ride(id)
        guard let decision = feed.recorder.decision(of: id) ?? ride.map({ OpsRecorder.Decision(rideID: $0.id) }) else {
            throw DispatchError(.rideNotFound, "no recent ride with ID \(id)")
        }
        return OpsRideResponse(ride: ride, decision: decision)
    }

    /// `GET /v1/ops/drivers/{driverId}`: the driver now and its recent events.
    @Sendable func driver(_ request: Request, context: Context) async throws -> OpsDriverResponse {
        try Self.requireOperator(context)
        let id = try DriverID(context.parameters.get("driverId") ?? "")
        guard let driver = dispatcher.driver(id) else {
            throw DispatchError(.driverNotFound, "driver \(id) is not known")
        }
        let stale = CityChanges.isStale(driver, at: dispatcher.now(), freshness: feed.freshness)
        return OpsDriverResponse(driver: driver, stale: stale, events: feed.recorder.events(of: id))
    }

    private static func requireOperator(_ context: Context) throws {
        guard try context.caller().role == .ops else {
            throw APIError.forbidden("the ops routes take an operator's token")
        }
    }
}
