import DispatchCore
import Foundation
import Geo
import Hummingbird
import HummingbirdAuth

/// The ride endpoints: create, read, cancel, and the driver's actions. Thin: decode, authorise, call
/// the `RideService` (commands) or the `RideRepository` (reads), encode.
///
/// Commands (create, cancel, the driver's actions) answer only after their events are durable: they are
/// refused up front while storage is unavailable, and wait for the group commit before answering.
struct RideController<Context: AuthRequestContext<Caller>> {
    let hub: EventHub
    let persistence: Persistence
    let rides: RideService

    func addRoutes(to router: Router<Context>, catalog: RouteCatalog) {
        catalog.register(.post, "/v1/rides", on: router, use: create)
        catalog.register(.get, "/v1/rides/:rideId", on: router, use: ride)
        catalog.register(.get, "/v1/riders/:riderId/rides", on: router) { request, context in
            let rider = try RiderID(context.parameters.get("riderId") ?? "")
            try context.caller().mayActAs(rider)
            return try await history(of: .rider(rider), request)
        }
        catalog.register(.get, "/v1/drivers/:driverId/rides", on: router) { request, context in
            let driver = try DriverID(context.parameters.get("driverId") ?? "")
            try context.caller().mayActAs(driver)
            return try await history(of: .driver(driver), request)
        }
        catalog.register(.post, "/v1/rides/:rideId/cancel", on: router, use: cancel)
        catalog.register(.post, "/v1/rides/:rideId/end", on: router, use: end)
        for action in DriverAction.allCases {
            catalog.register(.post, "/v1/rides/:rideId/\(action.rawValue)", on: router) { request, context in
                try await perform(action, request, context)
            }
        }
    }

    /// `POST /v1/rides` → 201 with the new ride, or 200 with the ride an `Idempotency-Key` created
    /// (once it is durable).
    @Sendable func create(_ request: Request, context: Context) async throws -> EditedResponse<RideResponse> {
        let key = try idempotencyKey(request)
        let caller = try context.caller()
        var request = request
        let body = try await request.decodeJSON(as: CreateRideRequest.self)
        let rideRequest = try RideRequest(
            riderID: caller.actingRider(named: body.riderId),
            pickup: body.pickup.coordinate(),
            dropoff: body.dropoff.coordinate()
        )
        let outcome = try await rides.request(rideRequest, idempotencyKey: key, operatorID: caller.operatorID)
        return EditedResponse(
            status: outcome.created ? .created : .ok,
            headers: [.location: "/v1/rides/\(outcome.ride.id)"],
            response: RideResponse(outcome.ride)
        )
    }

    /// `GET /v1/rides/{rideId}` → 200 or 404.
    @Sendable func ride(_ request: Request, context: Context) async throws -> RideResponse {
        let id = try rideID(context)
        let caller = try context.caller()
        // Someone else's ride answers exactly as one that does not exist.
        guard let ride = try await persistence.rides.ride(id), caller.maySee(ride, in: hub) else {
            throw DispatchError(.rideNotFound, "no ride with ID \(id)")
        }
        return RideResponse(ride)
    }

    /// `POST /v1/rides/{rideId}/cancel`: by the rider, or by the assigned driver (which sends the ride
    /// back to searching); an operator names which with `{"riderId"}` or `{"driverId"}`, and the ride's
    /// event records the operator.
    @Sendable func cancel(_ request: Request, context: Context) async throws -> RideResponse {
        let id = try rideID(context)
        let caller = try context.caller()
        var request = request
        let body = try await request.decodeJSON(as: CancelRideRequest.self)
        switch (caller.role, body.riderId, body.driverId) {
        case (.rider, _, nil), (.ops, _?, nil):
            let rider = try caller.actingRider(named: body.riderId)
            return RideResponse(try await rides.cancel(id, byRider: rider, operatorID: caller.operatorID))
        case (.driver, nil, _), (.ops, nil, _?):
            let driver = try caller.actingDriver(named: body.driverId)
            return RideResponse(try await rides.cancel(id, byDriver: driver, operatorID: caller.operatorID))
        case (.ops, _, _):
            throw APIError(.badRequest, code: "missing_field", "give exactly one of 'riderId' and 'driverId'")
        case (.rider, _, _?):
            throw APIError.forbidden("a rider's token cancels as the rider: leave out 'driverId'")
        case (.driver, _?, _):
            throw APIError.forbidden("a driver's token cancels as the driver: leave out 'riderId'")
        }
    }

    /// `POST /v1/rides/{rideId}/end` with `{"outcome": "cancelled"|"completed", "reason"}`: operators
    /// only, for any unfinished ride; the final event records the operator and the reason.
    @Sendable func end(_ request: Request, context: Context) async throws -> RideResponse {
        let id = try rideID(context)
        guard let operatorID = try context.caller().operatorID else {
            throw APIError.forbidden("only an operator's token may end a ride this way")
        }
        var request = request
        let (ending, reason) = try await request.decodeJSON(as: EndRideRequest.self).validated()
        return RideResponse(try await rides.end(id, as: ending, reason: reason, operatorID: operatorID))
    }

    /// `POST /v1/rides/{rideId}/{accept|decline|arrive|start|complete}` with `{"driverId"}`.
    func perform(_ action: DriverAction, _ request: Request, _ context: Context) async throws -> RideResponse {
        let id = try rideID(context)
        var request = request
        let caller = try context.caller()
        let body = try await request.decodeJSON(as: DriverActionRequest.self)
        let driver = try caller.actingDriver(named: body.driverId)
        return RideResponse(try await rides.perform(action, on: id, by: driver, operatorID: caller.operatorID))
    }

    /// `GET /v1/riders/{riderId}/rides` and `GET /v1/drivers/{driverId}/rides`: the trip history, newest
    /// first, `limit` (1–100, default 20) rides requested before `before` (RFC 3339).
    func history(of owner: HistoryOwner, _ request: Request) async throws -> RideHistoryResponse {
        let query = request.uri.queryParameters
        var limit = 20
        if let text = query["limit"] {
            guard let value = Int(String(text)), (1...100).contains(value) else {
                throw APIError(
                    .badRequest,
                    code: "invalid_query",
                    "limit must be an integer in [1, 100], got \"\(text.prefix(64))\""
                )
            }
            limit = value
        }
        var before: Date?
        if let text = query["before"] {
            guard let date = Timestamps.parse(String(text)) else {
                throw APIError(
                    .badRequest,
                    code: "invalid_query",
                    "before must be an RFC 3339 time, got \"\(text.prefix(64))\""
                )
            }
            before = date
        }
        let rides = try await persistence.rides.history(of: owner, before: before, limit: limit)
        return RideHistoryResponse(rides: rides.map(RideResponse.init))
    }

    private func rideID(_ context: Context) throws -> RideID {
        try RideID(context.parameters.get("rideId") ?? "")
    }

    /// The `Idempotency-Key` header, if any: 1–255 visible ASCII characters.
    private func idempotencyKey(_ request: Request) throws -> String? {
        guard let key = request.headers.first(where: { $0.name.canonicalName == "idempotency-key" })?.value else {
            return nil
        }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw APIError(
                .badRequest,
                code: "invalid_idempotency_key",
                "Idempotency-Key must be 1-255 visible ASCII characters"
            )
        }
        return key
    }
}
