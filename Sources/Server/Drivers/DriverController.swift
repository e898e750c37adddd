import CoreMetrics
import DispatchCore
import Foundation
import Geo
import Hummingbird
import HummingbirdAuth

/// The driver endpoints: location reports, status, lookup and nearby search. Thin: decode,
/// authorise, call the `Dispatcher` (or the `DriverStatusService`, for the stored status), encode.
struct DriverController<Context: AuthRequestContext<Caller>> {
    let dispatcher: Dispatcher
    /// Rides as published, for who may see a driver.
    let hub: EventHub
    let reports: LocationReports
    let offers: OfferPolls
    let statuses: DriverStatusService

    func addRoutes(to router: Router<Context>, catalog: RouteCatalog) {
        catalog.register(.put, "/v1/drivers/:driverId/location", on: router, use: updateLocation)
        catalog.register(.put, "/v1/drivers/:driverId/status", on: router, use: setStatus)
        // `nearby` is matched before `:driverId`: a constant path component wins in Hummingbird's trie.
        catalog.register(.get, "/v1/drivers/nearby", on: router, use: nearby)
        catalog.register(.get, "/v1/drivers/:driverId", on: router, use: driver)
        catalog.register(.get, "/v1/drivers/:driverId/offer", on: router, use: offer)
    }

    /// `GET /v1/drivers/{driverId}/offer` → 200 with the open offer, or 204 when there is none.
    /// Most polls are answered at the edge (`EdgeHandler`); both answer through `OfferPolls`.
    @Sendable func offer(_ request: Request, context: Context) async throws -> Response {
        try context.caller().mayActAs(driverID(context))
        guard let body = try offers.offer(rawDriverID: context.parameters.get("driverId") ?? "") else {
            return Response(status: .noContent)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: body)
        )
    }

    /// `PUT /v1/drivers/{driverId}/location` → 204. Most reports are answered before they reach the
    /// router, by `EdgeHandler`'s fast path; both apply them through `LocationReports`.
    @Sendable func updateLocation(_ request: Request, context: Context) async throws -> HTTPResponse.Status {
        let rawID = context.parameters.get("driverId") ?? ""
        try context.caller().mayActAs(DriverID(rawID))
        var request = request
        let body = try await request.collectJSONBody()
        try reports.apply(rawDriverID: rawID, body: body)
        return .noContent
    }

    /// `PUT /v1/drivers/{driverId}/status` → 200 with the driver.
    @Sendable func setStatus(_ request: Request, context: Context) async throws -> DriverResponse {
        let id = try driverID(context)
        try context.caller().mayActAs(id)
        var request = request
        let body = try await request.decodeJSON(as: StatusUpdateRequest.self)
        let status = try DriverStatus(settable: body.status)
        return DriverResponse(try await statuses.setStatus(id, to: status))
    }

    /// `GET /v1/drivers/{driverId}` → 200 or 404. A driver reads itself; a rider reads only the driver
    /// coming to pick it up (its ride `accepted` or `arrived`), and any other answers as one that does
    /// not exist.
    @Sendable func driver(_ request: Request, context: Context) async throws -> DriverResponse {
        let id = try driverID(context)
        let caller = try context.caller()
        if caller.role == .driver { try caller.mayActAs(id) }
        guard let driver = dispatcher.driver(id), caller.maySee(driver, in: hub) else {
            throw DispatchError(.driverNotFound, "no driver with ID \(id)")
        }
        return DriverResponse(driver)
    }

    /// `GET /v1/drivers/nearby?lat=&lng=&radiusMeters=&limit=` → 200.
    /// Riders get positions and distances without IDs; drivers may not search.
    @Sendable func nearby(_ request: Request, context: Context) async throws -> NearbyDriversResponse {
        let caller = try context.caller()
        guard caller.role != .driver else { throw APIError.forbidden("drivers cannot search for other drivers") }
        let query = request.uri.queryParameters
        func number<Value: LosslessStringConvertible>(_ name: String, as _: Value.Type, default: Value?) throws -> Value
        {
            guard let text = query[name[...]] else {
                guard let value = `default` else {
                    throw APIError(.badRequest, code: "missing_parameter", "query parameter '\(name)' is required")
                }
                return value
            }
            guard let value = Value(String(text)) else {
                throw APIError(
                    .badRequest,
                    code: "invalid_query",
                    "query parameter '\(name)' must be a number, got \"\(text.prefix(64))\""
                )
            }
            return value
        }
        let center = try LatLng(
            lat: number("lat", as: Double.self, default: nil),
            lng: number("lng", as: Double.self, default: nil)
        )
        .coordinate()
        let radius = try number("radiusMeters", as: Double.self, default: 3_000)
        let limit = try number("limit", as: Int.self, default: 10)
        let neighbors = try dispatcher.nearbyDrivers(around: center, radius: Meters(radius), limit: limit)
        return NearbyDriversResponse(
            drivers: neighbors.map {
                .init(
                    id: caller.role == .ops ? $0.key.rawValue : nil,
                    location: LatLng($0.coordinate),
                    distanceMeters: $0.distance.value
                )
            }
        )
    }

    private func driverID(_ context: Context) throws -> DriverID {
        try DriverID(context.parameters.get("driverId") ?? "")
    }
}
