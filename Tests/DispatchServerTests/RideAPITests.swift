import DispatchCore
import DispatchTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import DispatchServer

/// The ride view as the API returns it.
struct RideJSON: Decodable, Equatable {
    let id: String
    let riderId: String
    let status: String
    let driverId: String?
    let pickupDistanceMeters: Double?
    let etaSeconds: Int?
    let requestedAt: String
    let offeredAt: String?
    let acceptedAt: String?
    let arrivedAt: String?
    let startedAt: String?
    let completedAt: String?
    let cancelledAt: String?
}

struct OfferJSON: Decodable {
    let rideId: String
    let pickupDistanceMeters: Double
    let expiresAt: String
}

let rideBody =
    #"{"riderId": "rider-1", "pickup": {"lat": 37.5665, "lng": 126.978}, "dropoff": {"lat": 37.4979, "lng": 127.0276}}"#

extension TestClientProtocol {
    /// A driver reports ~`meters` north of City Hall.
    func placeDriver(_ id: String, metersNorth meters: Double = 100) async throws {
        let latitude = 37.5665 + meters / 111_195.08
        try await send(.put, "/v1/drivers/\(id)/location", json: #"{"lat": \#(latitude), "lng": 126.978}"#)
    }

}

@Suite("Rides over HTTP")
struct RideAPITests {
    @Test("a rider is matched, picked up and dropped off, with a driver who accepts over HTTP")
    func wholeRide() async throws {
        try await makeTestApplication().test(.router) { client in
            try await client.placeDriver("driver-1", metersNorth: 250)
            let created = try await client.send(.post, "/v1/rides", json: rideBody)
            #expect(created.status == .created)
            #expect(created.headers[.location] == "/v1/rides/ride-1")
            let ride = try created.json(RideJSON.self)
            #expect(ride.id == "ride-1")
            #expect(ride.status == "offered")
            #expect(ride.driverId == nil)
            #expect(ride.requestedAt == "2027-01-15T08:00:00.000Z")
            #expect(ride.offeredAt == "2027-01-15T08:00:00.000Z")

            let offer = try await client.send(.get, "/v1/drivers/driver-1/offer").json(OfferJSON.self)
            #expect(offer.rideId == "ride-1")
            #expect(abs(offer.pickupDistanceMeters - 250) < 0.1)
            #expect(offer.expiresAt == "2027-01-15T08:00:15.000Z")

            let driver = #"{"driverId": "driver-1"}"#
            let accepted = try await client.send(.post, "/v1/rides/ride-1/accept", json: driver).json(RideJSON.self)
            #expect(accepted.status == "accepted")
            #expect(accepted.driverId == "driver-1")
            #expect(accepted.etaSeconds == 36)  // 250 m at 25 km/h
            #expect(try await client.send(.get, "/v1/drivers/driver-1").json(DriverJSON.self).status == "en_route")
            #expect(try await client.send(.get, "/v1/drivers/driver-1/offer").status == .noContent)
            #expect(
                try await client.send(.post, "/v1/rides/ride-1/arrive", json: driver).json(RideJSON.self).status
                    == "arrived"
            )
            #expect(
                try await client.send(.post, "/v1/rides/ride-1/start", json: driver).json(RideJSON.self).status
                    == "in_progress"
            )
            let done = try await client.send(.post, "/v1/rides/ride-1/complete", json: driver)
            #expect(done.status == .ok)
            let completed = try done.json(RideJSON.self)
            #expect(completed.status == "completed")
            #expect(completed.completedAt != nil)
            #expect(try await client.send(.get, "/v1/rides/ride-1").json(RideJSON.self) == completed)
            #expect(try await client.send(.get, "/v1/drivers/driver-1").json(DriverJSON.self).status == "available")
        }
    }

    @Test("a dispatcher with a service area refuses pickups outside it (422) and serves those inside")
    func serviceArea() async throws {
        var configuration = ServerConfiguration()
        configuration.dispatch.serviceArea = try ServiceArea(parsing: "35.03,128.85,35.30,129.25")  // Busan
        try await makeTestApplication(configuration: configuration).test(.router) { client in
            let seoul = try await client.send(.post, "/v1/rides", json: rideBody)
            #expect(seoul.status == .unprocessableContent)
            #expect(seoul.errorCode == "outside_service_area")
            #expect(seoul.text.contains("35.03,128.85,35.3,129.25"))
            let busan = try await client.send(
                .post,
                "/v1/rides",
                json:
                    #"{"riderId": "rider-2", "pickup": {"lat": 35.1796, "lng": 129.0756}, "dropoff": {"lat": 35.1, "lng": 129.0}}"#
            )
            #expect(busan.status == .created)
        }
    }

    @Test("Idempotency-Key: a retry returns the same ride (200); a different body is 409")
    func idempotency() async throws {
        try await makeTestApplication().test(.router) { client in
            let headers: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "abc-123"]
            let first = try await client.send(.post, "/v1/rides", headers: headers, json: rideBody)
            #expect(first.status == .created)
            let retry = try await client.send(.post, "/v1/rides", headers: headers, json: rideBody)
            #expect(retry.status == .ok)
            #expect(try retry.json(RideJSON.self).id == first.json(RideJSON.self).id)
            let other = rideBody.replacingOccurrences(of: "126.978", with: "126.979")
            let conflict = try await client.send(.post, "/v1/rides", headers: headers, json: other)
            #expect(conflict.status == .conflict)
            #expect(conflict.errorCode == "idempotency_key_reused")
            let active = try await client.send(.post, "/v1/rides", json: rideBody)
            #expect(active.status == .conflict)
            #expect(active.errorCode == "rider_has_active_ride")
            let badKey: HTTPFields = [HTTPField.Name("Idempotency-Key")!: String(repeating: "k", count: 300)]
            let invalid = try await client.send(.post, "/v1/rides", headers: badKey, json: rideBody)
            #expect(invalid.status == .badRequest)
            #expect(invalid.errorCode == "invalid_idempotency_key")
        }
    }

    @Test(
        "bad ride requests are 400 with a clear error",
        arguments: [
            (#"{"pickup": {"lat": 37.5, "lng": 127}, "dropoff": {"lat": 37.5, "lng": 127}}"#, "missing_field"),
            (
                #"{"riderId": "r 1", "pickup": {"lat": 37.5, "lng": 127}, "dropoff": {"lat": 37.5, "lng": 127}}"#,
                "invalid_rider_id"
            ),
            (
                #"{"riderId": "r1", "pickup": {"lat": 97.5, "lng": 127}, "dropoff": {"lat": 37.5, "lng": 127}}"#,
                "invalid_coordinate"
            ),
            (#"{"riderId": "r1", "pickup": {"lat": 37.5}, "dropoff": {"lat": 37.5, "lng": 127}}"#, "missing_field"),
            (#"{"riderId": "r1", "pickup": "Seoul", "dropoff": {"lat": 37.5, "lng": 127}}"#, "invalid_field"),
            (#"not json"#, "invalid_json"),
        ]
    )
    func badRequests(body: String, code: String) async throws {
        try await makeTestApplication().test(.router) { client in
            let response = try await client.send(.post, "/v1/rides", json: body)
            #expect(response.status == .badRequest)
            #expect(response.errorCode == code)
        }
    }

    @Test("cancel: 403 for another rider, 409 once the trip started, 400 without exactly one actor")
    func cancellation() async throws {
        try await makeTestApplication().test(.router) { client in
            try await client.placeDriver("d1")
            try await client.send(.post, "/v1/rides", json: rideBody)
            let stranger = try await client.send(.post, "/v1/rides/ride-1/cancel", json: #"{"riderId": "rider-2"}"#)
            #expect(stranger.status == .forbidden)
            #expect(stranger.errorCode == "not_your_ride")
            let both = try await client.send(
                .post,
                "/v1/rides/ride-1/cancel",
                json: #"{"riderId": "rider-1", "driverId": "d1"}"#
            )
            #expect(both.status == .badRequest)
            for action in ["accept", "arrive", "start"] {
                try await client.send(.post, "/v1/rides/ride-1/\(action)", json: #"{"driverId": "d1"}"#)
            }
            let late = try await client.send(.post, "/v1/rides/ride-1/cancel", json: #"{"riderId": "rider-1"}"#)
            #expect(late.status == .conflict)
            #expect(late.errorCode == "transition_not_allowed")
            #expect(try await client.send(.get, "/v1/rides/ride-1").json(RideJSON.self).status == "in_progress")
        }
    }

    @Test("a rider's cancel withdraws the offer; a driver's cancel sends the ride back to searching")
    func cancelByRiderAndDriver() async throws {
        try await makeTestApplication().test(.router) { client in
            try await client.placeDriver("d1", metersNorth: 100)
            try await client.placeDriver("d2", metersNorth: 900)
            try await client.send(.post, "/v1/rides", json: rideBody)
            try await client.send(.post, "/v1/rides/ride-1/accept", json: #"{"driverId": "d1"}"#)
            let back = try await client.send(.post, "/v1/rides/ride-1/cancel", json: #"{"driverId": "d1"}"#)
            #expect(back.status == .ok)
            #expect(try back.json(RideJSON.self).status == "offered")
            #expect(try await client.send(.get, "/v1/drivers/d2/offer").json(OfferJSON.self).rideId == "ride-1")
            let cancelled = try await client.send(.post, "/v1/rides/ride-1/cancel", json: #"{"riderId": "rider-1"}"#)
            #expect(try cancelled.json(RideJSON.self).status == "cancelled")
            #expect(try await client.send(.get, "/v1/drivers/d2/offer").status == .noContent)
            #expect(try await client.send(.get, "/v1/drivers/d2").json(DriverJSON.self).status == "available")
        }
    }

    @Test(
        "driver actions are 409 when the driver does not hold the offer or ride, or the step is not allowed now",
        arguments: [
            ("accept", "d2", "offer_not_held"),
            ("decline", "d2", "offer_not_held"),
            ("arrive", "d1", "ride_not_held"),
            ("start", "d1", "ride_not_held"),
            ("complete", "d1", "ride_not_held"),
        ]
    )
    func driverActionConflicts(action: String, driver: String, code: String) async throws {
        try await makeTestApplication().test(.router) { client in
            try await client.placeDriver("d1")
            try await client.placeDriver("d2", metersNorth: 2_000)
            try await client.send(.post, "/v1/rides", json: rideBody)
            let response = try await client.send(
                .post,
                "/v1/rides/ride-1/\(action)",
                json: #"{"driverId": "\#(driver)"}"#
            )
            #expect(response.status == .conflict)
            #expect(response.errorCode == code)
            #expect(try await client.send(.get, "/v1/rides/ride-1").json(RideJSON.self).status == "offered")
        }
    }

    @Test("unknown rides and drivers are 404; bad IDs are 400")
    func notFound() async throws {
        try await makeTestApplication().test(.router) { client in
            let ride = try await client.send(.get, "/v1/rides/nope")
            #expect(ride.errorCode == "ride_not_found")
            #expect(
                try await client.send(.post, "/v1/rides/nope/accept", json: #"{"driverId": "d1"}"#).status == .notFound
            )
            #expect(try await client.send(.get, "/v1/rides/nope/events").status == .notFound)
            let offer = try await client.send(.get, "/v1/drivers/nobody/offer")
            #expect(offer.errorCode == "driver_not_found")
            #expect(try await client.send(.get, "/v1/drivers/nobody/events").status == .notFound)
            let badID = try await client.send(.get, "/v1/rides/bad.id")
            #expect(badID.errorCode == "invalid_ride_id")
        }
    }

    @Test("a busy driver cannot go offline (409 driver_busy)")
    func busyDriver() async throws {
        try await makeTestApplication().test(.router) { client in
            try await client.placeDriver("d1")
            try await client.send(.post, "/v1/rides", json: rideBody)
            let response = try await client.send(.put, "/v1/drivers/d1/status", json: #"{"status": "offline"}"#)
            #expect(response.status == .conflict)
            #expect(response.errorCode == "driver_busy")
        }
    }

    @Test("offers expire on the ticker's clock: the ride goes to the next driver")
    func expiryOverHTTP() async throws {
        let clock = ManualClock(start: testEpoch)
        let (app, parts) = makeTestService(clock: clock)
        try await app.test(.router) { client in
            try await client.placeDriver("d1", metersNorth: 100)
            try await client.placeDriver("d2", metersNorth: 200)
            try await client.send(.post, "/v1/rides", json: rideBody)
            clock.advance(by: 15)
            parts.dispatcher.tick()
            #expect(try await client.send(.get, "/v1/drivers/d2/offer").json(OfferJSON.self).rideId == "ride-1")
            #expect(try await client.send(.get, "/v1/drivers/d1/offer").status == .noContent)
        }
    }
}

@Suite("Operators end rides")
struct OperatorEndTests {
    @Test("an operator ends a stuck ride with a reason; riders and drivers cannot; bad input is 400")
    func endRide() async throws {
        try await makeTestApplication().test(.router) { client in
            try await client.placeDriver("d1")
            let id = try await client.send(.post, "/v1/rides", json: rideBody).json(RideJSON.self).id
            #expect(try await client.send(.post, "/v1/rides/\(id)/accept", json: #"{"driverId": "d1"}"#).status == .ok)
            let end = #"{"outcome": "cancelled", "reason": "driver's phone died; rider called support"}"#
            // Only operators.
            let byRider = try await client.send(.post, "/v1/rides/\(id)/end", json: end, caller: .rider("rider-1"))
            #expect(byRider.status == .forbidden)
            let byDriver = try await client.send(.post, "/v1/rides/\(id)/end", json: end, caller: .driver("d1"))
            #expect(byDriver.status == .forbidden)
            for (body, code) in [
                (#"{"outcome": "refunded", "reason": "x"}"#, "invalid_outcome"),
                (#"{"outcome": "cancelled", "reason": "   "}"#, "invalid_reason"),
                (#"{"outcome": "cancelled", "reason": "a\u0007b"}"#, "invalid_reason"),
                (#"{"outcome": "cancelled"}"#, "missing_field"),
            ] {
                let bad = try await client.send(.post, "/v1/rides/\(id)/end", json: body, caller: .ops("support-1"))
                #expect(bad.status == .badRequest, "\(body)")
                #expect(bad.errorCode == code, "\(body)")
            }
            let ended = try await client.send(.post, "/v1/rides/\(id)/end", json: end, caller: .ops("support-1"))
            #expect(ended.status == .ok)
            #expect(try ended.json(RideJSON.self).status == "cancelled")
            // The final event says who and why; the driver is free again.
            let events = try parseEvents(try await client.send(.get, "/v1/rides/\(id)/events").text)
            #expect(events.last?.event == "ride_cancelled")
            #expect(events.last?.data.operatorId == "support-1")
            #expect(events.last?.data.reason == "driver's phone died; rider called support")
            #expect(try await client.send(.get, "/v1/drivers/d1").json(DriverJSON.self).status == "available")
            // Once ended, it cannot be ended again.
            let again = try await client.send(.post, "/v1/rides/\(id)/end", json: end, caller: .ops("support-1"))
            #expect(again.status == .conflict)
            #expect(again.errorCode == "transition_not_allowed")
            let missing = try await client.send(.post, "/v1/rides/nope/end", json: end, caller: .ops("support-1"))
            #expect(missing.status == .notFound)
        }
    }
}
