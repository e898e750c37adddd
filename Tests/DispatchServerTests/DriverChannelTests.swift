import DispatchCore
import DispatchTestSupport
import Foundation
import HummingbirdTesting
import HummingbirdWSClient
import HummingbirdWSTesting
import NIOCore
import Synchronization
import Testing
import WSCore

@testable import DispatchServer

/// Reads the service's messages on a driver channel, one JSON object each.
private struct ChannelReader {
    var messages: WebSocketInboundMessageStream.AsyncIterator

    init(_ inbound: WebSocketInboundStream) {
        messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
    }

    mutating func next() async throws -> [String: Any] {
        guard case .text(let text) = try await messages.next() else {
            Issue.record("the channel ended or sent a binary message")
            return [:]
        }
        return try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// The next message, which must be an event: its type and cursor.
    mutating func nextEvent() async throws -> (type: String, cursor: String, rideID: String) {
        let message = try await next()
        #expect(message["type"] as? String == "event")
        let event = try #require(message["event"] as? [String: Any])
        return (event["type"] as? String ?? "", message["cursor"] as? String ?? "", event["rideId"] as? String ?? "")
    }
}

extension WebSocketClientConfiguration {
    /// The default configuration, with the caller's bearer token on the upgrade request.
    static func authorized(as caller: TestCaller) async throws -> WebSocketClientConfiguration {
        var configuration = WebSocketClientConfiguration()
        if let authorization = try await caller.authorization() {
            configuration.additionalHeaders[.authorization] = authorization
        }
        return configuration
    }
}

@Suite("The driver channel (WebSocket)")
struct DriverChannelTests {
    @Test("a whole ride over one channel: reports, the offer, accept, arrive, start, complete")
    func wholeRide() async throws {
        try await makeTestApplication().test(.live) { client in
            _ = try await client.ws("/v1/drivers/c1/channel", configuration: try await .authorized(as: .driver("c1"))) {
                inbound,
                outbound,
                _ in
                var reader = ChannelReader(inbound)
                let hello = try await reader.next()
                #expect(hello["type"] as? String == "hello")
                #expect(hello["driverId"] as? String == "c1")
                #expect(hello["resumed"] as? Bool == false)
                #expect(hello["offer"] == nil && hello["ride"] == nil && hello["driver"] == nil)

                try await outbound.write(.text(#"{"type":"location","lat":37.5666,"lng":126.978,"id":"l1"}"#))
                let ack = try await reader.next()
                #expect(ack["type"] as? String == "ack")
                #expect(ack["id"] as? String == "l1")
                #expect(ack["outcome"] as? String == "applied")

                let created = try await client.send(.post, "/v1/rides", json: rideBody)
                #expect(created.status == .created)
                let offered = try await reader.nextEvent()
                #expect(offered.type == "ride_offered")
                #expect(offered.rideID == "ride-1")

                for (number, action) in ["accept", "arrive", "start", "complete"].enumerated() {
                    try await outbound.write(.text(#"{"type":"\#(action)","rideId":"ride-1","id":"c\#(number)"}"#))
                    let answer = try await reader.next()
                    #expect(answer["type"] as? String == "ack")
                    #expect(answer["id"] as? String == "c\(number)")
                    let event = try await reader.nextEvent()
                    #expect(event.rideID == "ride-1")
                }
                let ride = try await client.send(.get, "/v1/rides/ride-1").json(RideJSON.self)
                #expect(ride.status == "completed")
                #expect(ride.driverId == "c1")
            }
        }
    }

    @Test("every line of a message is answered in order, errors with the HTTP status and code")
    func errors() async throws {
        try await makeTestApplication().test(.live) { client in
            try await client.ws("/v1/drivers/c2/channel", configuration: try await .authorized(as: .driver("c2"))) {
                inbound,
                outbound,
                _ in
                var reader = ChannelReader(inbound)
                _ = try await reader.next()
                let lines = [
                    #"{"type":"location","lat":91,"lng":0,"id":"a"}"#,
                    #"{"type":"fly","id":"b"}"#,
                    #"{"type":"accept","rideId":"ride-9","id":"c"}"#,
                    #"{"type":"location","lat":37.5,"id":"d"}"#,
                    #"{"type":"location","lat":37.5,"lng":127,"id":"bad id"}"#,
                    "not json",
                    #"{"type":"location","lat":37.5,"lng":127}"#,  // no id: applied, no answer
                    #"{"type":"status","status":"offline","id":"e"}"#,
                ]
                try await outbound.write(.text(lines.joined(separator: "\n")))
                var answers: [[String: Any]] = []
                for _ in 0..<7 { answers.append(try await reader.next()) }
                func error(_ answer: [String: Any]) -> (String?, Int?, String?) {
                    let detail = answer["error"] as? [String: Any]
                    return (answer["id"] as? String, answer["status"] as? Int, detail?["code"] as? String)
                }
                #expect(error(answers[0]) == ("a", 400, "invalid_coordinate"))
                #expect(error(answers[1]) == ("b", 400, "invalid_message_type"))
                #expect(error(answers[2]) == ("c", 404, "ride_not_found"))
                #expect(error(answers[3]) == ("d", 400, "missing_field"))
                #expect(error(answers[4]) == (nil, 400, "invalid_message_id"))
                #expect(error(answers[5]) == (nil, 400, "invalid_json"))
                #expect(answers[6]["type"] as? String == "ack")
                #expect((answers[6]["driver"] as? [String: Any])?["status"] as? String == "offline")
            }
            // The line without an id was applied all the same.
            let driver = try await client.send(.get, "/v1/drivers/c2").json(DriverJSON.self)
            #expect(driver.location == .init(lat: 37.5, lng: 127))
            #expect(driver.status == "offline")
        }
    }

    @Test("a reconnecting app gets the events it missed after its cursor, or a fresh snapshot")
    func resumption() async throws {
        try await makeTestApplication().test(.live) { client in
            try await client.placeDriver("c3")
            // Connected: sees nothing yet; the cursor is the driver's latest (none).
            let cursor = Mutex("")
            try await client.ws("/v1/drivers/c3/channel", configuration: try await .authorized(as: .driver("c3"))) {
                inbound,
                _,
                _ in
                var reader = ChannelReader(inbound)
                let latest = try await reader.next()["cursor"] as? String ?? ""
                cursor.withLock { $0 = latest }
            }
            // Offered while away.
            #expect(try await client.send(.post, "/v1/rides", json: rideBody).status == .created)
            try await client.ws(
                "/v1/drivers/c3/channel?after=\(cursor.withLock { $0 })",
                configuration: try await .authorized(as: .driver("c3"))
            ) { inbound, _, _ in
                var reader = ChannelReader(inbound)
                let hello = try await reader.next()
                #expect(hello["resumed"] as? Bool == true)
                #expect((hello["offer"] as? [String: Any])?["rideId"] as? String == "ride-1")
                let missed = try await reader.nextEvent()
                #expect(missed.type == "ride_offered")
            }
            // A cursor from another run (before a restart) resumes nothing; the snapshot still holds.
            try await client.ws(
                "/v1/drivers/c3/channel?after=elsewhere-1",
                configuration: try await .authorized(as: .driver("c3"))
            ) { inbound, outbound, _ in
                var reader = ChannelReader(inbound)
                let hello = try await reader.next()
                #expect(hello["resumed"] as? Bool == false)
                #expect((hello["offer"] as? [String: Any])?["rideId"] as? String == "ride-1")
                try await outbound.write(.text(#"{"type":"decline","rideId":"ride-1","id":"x"}"#))
                // Nothing replayed: the next message is the decline's answer.
                #expect(try await reader.next()["id"] as? String == "x")
            }
        }
    }

    @Test("a channel that drops leaves the driver as a driver that stopped reporting")
    func dropIsSilence() async throws {
        let clock = ManualClock(start: testEpoch)
        var configuration = ServerConfiguration()
        configuration.dispatch.driverFreshness = .seconds(10)
        try await makeTestApplication(configuration: configuration, clock: clock).test(.live) { client in
            try await client.ws("/v1/drivers/c4/channel", configuration: try await .authorized(as: .driver("c4"))) {
                inbound,
                outbound,
                _ in
                var reader = ChannelReader(inbound)
                _ = try await reader.next()
                try await outbound.write(.text(#"{"type":"location","lat":37.5665,"lng":126.978,"id":"l"}"#))
                _ = try await reader.next()
            }
            let nearby = "/v1/drivers/nearby?lat=37.5665&lng=126.978"
            #expect(try await client.send(.get, nearby).json(NearbyJSON.self).drivers.map(\.id) == ["c4"])
            clock.advance(by: 10)
            #expect(try await client.send(.get, nearby).json(NearbyJSON.self).drivers.isEmpty)
            #expect(try await client.send(.get, "/v1/drivers/c4").json(DriverJSON.self).status == "available")
        }
    }

    @Test("an upgrade for a bad driver ID is answered with the API's error and closed; no upgrade is 426")
    func refusedUpgrades() async throws {
        try await makeTestApplication().test(.live) { client in
            let port = try #require(client.port)
            let upgrade =
                "GET /v1/drivers/bad.id/channel HTTP/1.1\r\nHost: t\r\n\(try await TestCaller.ops("op").headerLine())"
                + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            // Answered, and the connection closed (RawHTTP reads until it is).
            let answer = try await RawHTTP.exchange(port: port, upgrade)
            #expect(answer.hasPrefix("HTTP/1.1 400 Bad Request"))
            #expect(answer.contains(#""code":"invalid_driver_id""#))
            let plain = try await client.send(.get, "/v1/drivers/c5/channel")
            #expect(plain.status == .upgradeRequired)
            #expect(plain.errorCode == "upgrade_required")
        }
    }

    @Test("at shutdown the service closes every channel")
    func shutdownCloses() async throws {
        let (app, parts) = makeTestService()
        try await app.test(.live) { client in
            _ = try await client.ws("/v1/drivers/c6/channel", configuration: try await .authorized(as: .driver("c6"))) {
                inbound,
                _,
                _ in
                var reader = ChannelReader(inbound)
                _ = try await reader.next()
                parts.hub.close()  // as the shutdown sequence does
                var rest = 0
                while try await reader.messages.next() != nil { rest += 1 }
                #expect(rest == 0)
            }
        }
    }
}
