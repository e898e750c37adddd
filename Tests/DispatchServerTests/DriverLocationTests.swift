import DispatchCore
import DispatchTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import DispatchServer

/// The two ways a location report is served: by the router (HummingbirdTesting's router mode), and by
/// the edge in front of it on a live server (which answers reports after a connection's first
/// request); both must answer alike.
enum ReportPath: String, CaseIterable, Sendable {
    case router, edge

    var setup: TestingSetup { self == .router ? .router : .live }

    /// Makes the requests that follow reach the edge on a live server.
    func prepare(_ client: some TestClientProtocol) async throws {
        if self == .edge { _ = try await client.send(.get, "/healthz") }
    }
}

@Suite("PUT /v1/drivers/{id}/location and GET /v1/drivers/{id}")
struct DriverLocationTests {
    @Test("a report is 204, and the driver is then available at that location", arguments: ReportPath.allCases)
    func reportAndRead(path: ReportPath) async throws {
        try await makeTestApplication().test(path.setup) { client in
            try await path.prepare(client)
            let put = try await client.send(
                .put,
                "/v1/drivers/d-1/location",
                json: #"{"lat": 37.5665, "lng": 126.978}"#
            )
            #expect(put.status == .noContent)
            let get = try await client.send(.get, "/v1/drivers/d-1")
            #expect(get.status == .ok)
            #expect(
                try get.json(DriverJSON.self)
                    == DriverJSON(
                        id: "d-1",
                        status: "available",
                        location: .init(lat: 37.5665, lng: 126.978),
                        updatedAt: "2027-01-15T08:00:00.000Z"
                    )
            )
        }
    }

    @Test(
        "bad input is a 4xx with a clear error, and the index is unchanged",
        arguments: [
            (#"{"lat": 91, "lng": 126.978}"#, 400, "invalid_coordinate"),
            (#"{"lat": 37.5, "lng": -180.5}"#, 400, "invalid_coordinate"),
            (#"{"lat": 1e999, "lng": 126.978}"#, 400, "invalid_json"),
            (#"{"lng": 126.978}"#, 400, "missing_field"),
            (#"{"lat": 37.5}"#, 400, "missing_field"),
            (#"{"lat": "37.5", "lng": 126.978}"#, 400, "invalid_field"),
            (#"{"lat": null, "lng": 126.978}"#, 400, "invalid_field"),
            (#"{"lat": 37.5, "lng": 126.9, "recordedAt": "yesterday"}"#, 400, "invalid_recorded_at"),
            (#"{"lat": 37.5, "lng": 126.9, "recordedAt": 17}"#, 400, "invalid_field"),
            (#"{"lat": 37.5, "lng": 126.9, "recordedAt": "2027-01-15T08:10:00Z"}"#, 422, "invalid_recorded_at"),
            (#"{"lat": 37.5, "lng": 126.9, "recordedAt": "2027-01-15T08:00:10.001Z"}"#, 422, "invalid_recorded_at"),
            (#"{"lat": 37.5, "lng": 126.9, "recordedAt": "2027-01-15T07:59:29Z"}"#, 422, "invalid_recorded_at"),
            (#"{"lat": 37.5, "lng": 126.9, "lat": 10}"#, 400, "duplicate_key"),
            (#"{"lat": 37.5, "lng": 126.9, "l\u0061t": 10}"#, 400, "duplicate_key"),
            (#"{"lat": 37.5,"#, 400, "invalid_json"),
            (#"[37.5, 126.9]"#, 400, "invalid_json"),
            ("", 400, "invalid_json"),
            (
                #"{"lat": 37.5, "lng": 126.9, "pad": ""# + String(repeating: "x", count: 16_400) + #""}"#, 413,
                "payload_too_large"
            ),
        ],
        ReportPath.allCases
    )
    func badInput(body: (String, Int, String), path: ReportPath) async throws {
        let (body, status, code) = body
        try await makeTestApplication().test(path.setup) { client in
            try await path.prepare(client)
            try await client.send(.put, "/v1/drivers/d1/location", json: #"{"lat": 37.5665, "lng": 126.978}"#)
            let response = try await client.send(.put, "/v1/drivers/d1/location", json: body)
            #expect(response.status.code == status)
            #expect(response.errorCode == code)
            let driver = try await client.send(.get, "/v1/drivers/d1").json(DriverJSON.self)
            #expect(driver.location == .init(lat: 37.5665, lng: 126.978))
        }
    }

    @Test(
        "a body not declared application/json is 415, and changes nothing",
        arguments: ["text/plain", "application/x-www-form-urlencoded", "application/jsonx", nil],
        ReportPath.allCases
    )
    func notJSON(contentType: String?, path: ReportPath) async throws {
        try await makeTestApplication().test(path.setup) { client in
            try await path.prepare(client)
            try await client.send(.put, "/v1/drivers/d1/location", json: #"{"lat": 37.5665, "lng": 126.978}"#)
            let token = try await TestCaller.driver("d1").authorization()
            var headers: HTTPFields = [.authorization: try #require(token)]
            if let contentType { headers[.contentType] = contentType }
            let response = try await client.execute(
                uri: "/v1/drivers/d1/location",
                method: .put,
                headers: headers,
                body: ByteBuffer(string: #"{"lat": 37.6, "lng": 127.0}"#)
            )
            #expect(response.status == .unsupportedMediaType)
            #expect(response.errorCode == "unsupported_media_type")
            let driver = try await client.send(.get, "/v1/drivers/d1").json(DriverJSON.self)
            #expect(driver.location == .init(lat: 37.5665, lng: 126.978))
            // A charset (or any parameter) and any case are fine.
            headers[.contentType] = "Application/JSON; charset=utf-8"
            let accepted = try await client.execute(
                uri: "/v1/drivers/d1/location",
                method: .put,
                headers: headers,
                body: ByteBuffer(string: #"{"lat": 37.6, "lng": 127.0}"#)
            )
            #expect(accepted.status == .noContent)
        }
    }

    @Test(
        "a bad driver ID is 400 invalid_driver_id",
        arguments: ["bad.id", "with%20space", String(repeating: "x", count: 65), "%C3%BC"],
        ReportPath.allCases
    )
    func badDriverID(raw: String, path: ReportPath) async throws {
        try await makeTestApplication().test(path.setup) { client in
            try await path.prepare(client)
            let put = try await client.send(.put, "/v1/drivers/\(raw)/location", json: #"{"lat": 1, "lng": 1}"#)
            #expect(put.status == .badRequest)
            #expect(put.errorCode == "invalid_driver_id")
            let get = try await client.send(.get, "/v1/drivers/\(raw)")
            #expect(get.errorCode == "invalid_driver_id")
        }
    }

    @Test("an unknown driver is 404 driver_not_found")
    func unknownDriver() async throws {
        try await makeTestApplication().test(.router) { client in
            let response = try await client.send(.get, "/v1/drivers/nobody")
            #expect(response.status == .notFound)
            #expect(response.errorCode == "driver_not_found")
        }
    }

    @Test(
        "an out-of-order or late report is acknowledged (204) but does not move the driver",
        arguments: ReportPath.allCases
    )
    func outOfOrder(path: ReportPath) async throws {
        let clock = ManualClock(start: testEpoch)
        try await makeTestApplication(clock: clock).test(path.setup) { client in
            try await path.prepare(client)
            try await client.send(
                .put,
                "/v1/drivers/d1/location",
                json: #"{"lat": 37.50, "lng": 127.0, "recordedAt": "2027-01-15T07:59:50Z"}"#
            )
            let late = try await client.send(
                .put,
                "/v1/drivers/d1/location",
                json: #"{"lat": 37.40, "lng": 127.0, "recordedAt": "2027-01-15T16:59:40+09:00"}"#
            )
            #expect(late.status == .noContent)
            #expect(try await client.send(.get, "/v1/drivers/d1").json(DriverJSON.self).location.lat == 37.50)
            try await client.send(
                .put,
                "/v1/drivers/d1/location",
                json: #"{"lat": 37.60, "lng": 127.0, "recordedAt": "2027-01-15T07:59:57.250Z"}"#
            )
            #expect(try await client.send(.get, "/v1/drivers/d1").json(DriverJSON.self).location.lat == 37.60)
            // Fixed 5 s before it arrived, while the driver is fresh: dropped (a newer one is coming).
            clock.advance(by: 10)
            let stale = try await client.send(
                .put,
                "/v1/drivers/d1/location",
                json: #"{"lat": 37.70, "lng": 127.0, "recordedAt": "2027-01-15T08:00:05Z"}"#
            )
            #expect(stale.status == .noContent)
            #expect(try await client.send(.get, "/v1/drivers/d1").json(DriverJSON.self).location.lat == 37.60)
        }
    }

    @Test("a driver silent for DRIVER_TTL_SECONDS drops out of nearby answers until it reports again")
    func freshness() async throws {
        let clock = ManualClock(start: testEpoch)
        var configuration = ServerConfiguration()
        configuration.dispatch.driverFreshness = .seconds(10)
        try await makeTestApplication(configuration: configuration, clock: clock).test(.router) { client in
            try await client.send(.put, "/v1/drivers/d1/location", json: #"{"lat": 37.5665, "lng": 126.978}"#)
            let nearby = "/v1/drivers/nearby?lat=37.5665&lng=126.978"
            #expect(try await client.send(.get, nearby).json(NearbyJSON.self).drivers.map(\.id) == ["d1"])
            clock.advance(by: 10)
            #expect(try await client.send(.get, nearby).json(NearbyJSON.self).drivers.isEmpty)
            #expect(try await client.send(.get, "/v1/drivers/d1").json(DriverJSON.self).status == "available")
            try await client.send(.put, "/v1/drivers/d1/location", json: #"{"lat": 37.5665, "lng": 126.978}"#)
            #expect(try await client.send(.get, nearby).json(NearbyJSON.self).drivers.map(\.id) == ["d1"])
        }
    }
}
