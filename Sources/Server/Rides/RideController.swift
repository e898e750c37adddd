import DispatchCore
import Foundation
import Geo
import Hummingbird

/// The ride endpoints: create, read, cancel, and the driver's actions. Thin: decode, validate, call
/// the `Dispatcher`, encode.
struct RideController<Context: RequestContext> {
    let dispatcher: Dispatcher

    func addRoutes(to router: Router<Context>, catalog: RouteCatalog) {
        catalog.register(.post, "/v1/rides", on: router, use: create)
        catalog.register(.get, "/v1/rides/:rideId", on: router, use: ride)
        catalog.register(.post, "/v1/rides/:rideId/cancel", on: router, use: cancel)
        for action in DriverAction.allCases {
            catalog.register(.post, "/v1/rides/:rideId/\(action.rawValue)", on: router) { request, context in
                try await perform(action, request, context)
            }
        }
    }

    /// `POST /v1/rides` → 201 with the new ride, or 200 with the ride an `Idempotency-Key` created.
    @Sendable func create(_ request: Request, context: Context) async throws -> EditedResponse<RideResponse> {
        let key = try idempotencyKey(request)
        var request = request
        let body = try await request.decodeJSON(as: CreateRideRequest.self)
        let rideRequest = try RideRequest(
            riderID: RiderID(body.riderId),
            pickup: body.pickup.coordinate(),
            dropoff: body.dropoff.coordinate()
        )
        let outcome = try dispatcher.requestRide(rideRequest, idempotencyKey: key)
        return EditedResponse(
            status: outcome.created ? .created : .ok,
            headers: [.location: "/v1/rides/\(outcome.ride.id)"],
            response: RideResponse(outcome.ride)
        )
    }

    /// `GET /v1/rides/{rideId}` → 200 or 404.
    @Sendable func ride(_ request: Request, context: Context) async throws -> RideResponse {
        let id = try rideID(context)
        guard let ride = dispatcher.ride(id) else { throw DispatchError(.rideNotFound, "no ride with ID \(id)") }
        return RideResponse(ride)
    }

    /// `POST /v1/rides/{rideId}/cancel` with `{"riderId"}` (the rider) or `{"driverId"}` (the assigned
    /// driver, which sends the ride back to searching).
    @Sendable func cancel(_ request: Request, context: Context) async throws -> RideResponse {
        let id = try rideID(context)
        var request = request
        let body = try await request.decodeJSON(as: CancelRideRequest.self)
        switch (body.riderId, body.driverId) {
        case (let rider?, nil):
            return RideResponse(try dispatcher.cancel(id, byRider: RiderID(rider)))
        case (nil, let driver?):
            return RideResponse(try dispatcher.cancel(id, byDriver: DriverID(driver)))
        default:
            throw APIError(.badRequest, code: "missing_field", "give exactly one of 'riderId' and 'driverId'")
        }
    }

    /// `POST /v1/rides/{rideId}/{accept|decline|arrive|start|complete}` with `{"driverId"}`.
    func perform(_ action: DriverAction, _ request: Request, _ context: Context) async throws -> RideResponse {
        let id = try rideID(context)
        var request = request
        let body = try await request.decodeJSON(as: DriverActionRequest.self)
        return RideResponse(try dispatcher.perform(action, on: id, by: DriverID(body.driverId)))
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
