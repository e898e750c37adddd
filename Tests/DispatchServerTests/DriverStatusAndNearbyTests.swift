import DispatchTestSupport
import Foundation
import Geo
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DispatchServer

@Suite("PUT /v1/drivers/{id}/status and GET /v1/drivers/nearby")
struct DriverStatusAndNearbyTests {
    @Test("offline drivers are in no answer; available brings them back")
    func offlineAndBack() async throws {
        try await makeTestApplication().test(.router) { client in
            try await client.send(.put, "/v1/drivers/d1/location", json: #"{"lat": 37.5665, "lng": 126.978}"#)
            let offline = try await client.send(.put, "/v1/drivers/d1/status", json: #"{"status": "offline"}"#)
            #expect(offline.status == .ok)
            #expect(try offline.json(DriverJSON.self).status == "offline")
            let nearby = "/v1/drivers/nearby?lat=37.5665&lng=126.978"
            #expect(try await client.send(.get, nearby).json(NearbyJSON.self).drivers.isEmpty)
            let available = try await client.send(.put, "/v1/drivers/d1/status", json: #"{"status": "available"}"#)
            #expect(try available.json(DriverJSON.self).status == "available")
            #expect(try await client.send(.get, nearby).json(NearbyJSON.self).drivers.map(\.id) == ["d1"])
        }
    }

    @Test(
        "bad status requests are rejected with a clear error",
        arguments: [
            ("d1", #"{"status": "busy"}"#, 400, "invalid_status"),
            ("d1", #"{"status": "AVAILABLE"}"#, 400, "invalid_status"),
            ("d1", #"{}"#, 400, "missing_field"),
            ("d1", #"{"status": 1}"#, 400, "invalid_field"),
            ("ghost", #"{"status": "offline"}"#, 404, "driver_not_found"),
            ("bad.id", #"{"status": "offline"}"#, 400, "invalid_driver_id"),
        ]
    )
    func badStatus(driver: String, body: String, status: Int, code: String) async throws {
        try await makeTestApplication().test(.router) { client in
            try await client.send(.put, "/v1/drivers/d1/location", json: #"{"lat": 37.5665, "lng": 126.978}"#)
            let response = try await client.send(.put, "/v1/drivers/\(driver)/status", json: body)
            #expect(response.status.code == status)
            #expect(response.errorCode == code)
            #expect(try await client.send(.get, "/v1/drivers/d1").json(DriverJSON.self).status == "available")
        }
    }

    @Test("nearby defaults to 3 km and 10 drivers, nearest first with exact distances")
    func nearbyDefaults() async throws {
        let center = try Coordinate(latitude: 37.5665, longitude: 126.978)
        try await makeTestApplication().test(.router) { client in
            for step in 1...12 {
                let spot = center.destination(
                    bearing: Bearing(degrees: Double(step) * 30),
                    distance: Meters(Double(step) * 100)
                )
                try await client.send(
                    .put,
                    "/v1/drivers/d\(step)/location",
                    json: #"{"lat": \#(spot.latitude), "lng": \#(spot.longitude)}"#
                )
            }
            let far = center.destination(bearing: .south, distance: 3_100)
            try await client.send(
                .put,
                "/v1/drivers/far/location",
                json: #"{"lat": \#(far.latitude), "lng": \#(far.longitude)}"#
            )

            let answer = try await client.send(.get, "/v1/drivers/nearby?lat=37.5665&lng=126.978").json(NearbyJSON.self)
            #expect(answer.drivers.map(\.id) == (1...10).map { "d\($0)" })
            for (step, entry) in zip(1..., answer.drivers) {
                #expect(abs(entry.distanceMeters - Double(step) * 100) < 1e-6)
            }
            let wide = try await client.send(
                .get,
                "/v1/drivers/nearby?lat=37.5665&lng=126.978&radiusMeters=5000&limit=100"
            )
            .json(NearbyJSON.self)
            #expect(wide.drivers.count == 13)
            #expect(wide.drivers.last?.id == "far")
        }
    }

    @Test(
        "nearby rejects missing and out-of-range parameters",
        arguments: [
            ("lng=126.978", "missing_parameter"),
            ("lat=37.5", "missing_parameter"),
            ("lat=abc&lng=126.978", "invalid_query"),
            ("lat=95&lng=126.978", "invalid_coordinate"),
            ("lat=nan&lng=126.978", "invalid_coordinate"),
            ("lat=37.5&lng=126.9&radiusMeters=0", "invalid_query"),
            ("lat=37.5&lng=126.9&radiusMeters=50001", "invalid_query"),
            ("lat=37.5&lng=126.9&radiusMeters=-1", "invalid_query"),
            ("lat=37.5&lng=126.9&limit=0", "invalid_query"),
            ("lat=37.5&lng=126.9&limit=101", "invalid_query"),
            ("lat=37.5&lng=126.9&limit=2.5", "invalid_query"),
        ]
    )
    func nearbyValidation(query: String, code: String) async throws {
        try await makeTestApplication().test(.router) { client in
            let response = try await client.send(.get, "/v1/drivers/nearby?\(query)")
            #expect(response.status == .badRequest)
            #expect(response.errorCode == code)
        }
    }

    @Test("the largest allowed radius and limit are accepted")
    func nearbyLimits() async throws {
        try await makeTestApplication().test(.router) { client in
            let response = try await client.send(
                .get,
                "/v1/drivers/nearby?lat=37.5&lng=126.9&radiusMeters=50000&limit=100"
            )
            #expect(response.status == .ok)
            #expect(try response.json(NearbyJSON.self).drivers.isEmpty)
        }
    }
}
