import DispatchCore
import DispatchTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DispatchServer

/// One Server-Sent Event as read back from a stream.
struct ServerSentEvent: Equatable {
    let id: String
    let event: String
    let data: RideEventPayload
}

/// Parses a `text/event-stream` body, skipping comments (keep-alives).
func parseEvents(_ body: String) throws -> [ServerSentEvent] {
    try body.components(separatedBy: "\n\n").compactMap { block -> ServerSentEvent? in
        var fields: [String: String] = [:]
        for line in block.split(separator: "\n") where !line.hasPrefix(":") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...]).trimmingCharacters(
                in: .whitespaces
            )
        }
        guard let id = fields["id"], let event = fields["event"], let data = fields["data"] else { return nil }
        return ServerSentEvent(
            id: id,
            event: event,
            data: try JSONDecoder().decode(RideEventPayload.self, from: Data(data.utf8))
        )
    }
}

/// Waits (briefly) until the hub has `count` open streams.
func waitForSubscribers(_ hub: EventHub, count: Int) async throws {
    for _ in 0..<500 where hub.subscriberCount < count {
        try await Task.sleep(for: .milliseconds(2))
    }
    #expect(hub.subscriberCount >= count)
}

@Suite("Event streams (Server-Sent Events)")
struct EventStreamTests {
    @Test("a ride's stream replays every event from the first and ends after the final one")
    func replayAfterTheEnd() async throws {
        try await makeTestApplication().test(.router) { client in
            try await client.placeDriver("d1")
            try await client.send(.post, "/v1/rides", json: rideBody)
            for action in ["accept", "arrive", "start", "complete"] {
                try await client.send(.post, "/v1/rides/ride-1/\(action)", json: #"{"driverId": "d1"}"#)
            }
            let response = try await client.send(.get, "/v1/rides/ride-1/events")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/event-stream")
            let events = try parseEvents(response.text)
            #expect(
                events.map(\.event) == [
                    "ride_requested", "ride_offered", "ride_accepted", "driver_arrived", "trip_started",
                    "ride_completed",
                ]
            )
            #expect(events.map(\.id) == ["1", "2", "3", "4", "5", "6"])
            #expect(
                events.map(\.data.status) == [
                    "requested", "offered", "accepted", "arrived", "in_progress", "completed",
                ]
            )
            let offer = try #require(events[1].data.offer)
            #expect(offer.driverId == "d1")
            #expect(offer.rank == 1)
            #expect(offer.candidates == 1)
            #expect(offer.matching == "greedy")
            #expect(offer.radiusMeters == 3_000)
            #expect(events.allSatisfy { $0.data.rideId == "ride-1" && $0.data.riderId == "rider-1" })
        }
    }

    @Test("a rider watching live sees each event as it happens, and the stream ends with the ride")
    func live() async throws {
        let (app, parts) = makeTestService()
        try await app.test(.router) { client in
            try await client.placeDriver("d1")
            try await client.send(.post, "/v1/rides", json: rideBody)
            async let watched = client.send(.get, "/v1/rides/ride-1/events")
            try await waitForSubscribers(parts.hub, count: 1)
            try await client.send(.post, "/v1/rides/ride-1/accept", json: #"{"driverId": "d1"}"#)
            try await client.send(.post, "/v1/rides/ride-1/cancel", json: #"{"riderId": "rider-1"}"#)
            let events = try await parseEvents(watched.text)
            #expect(events.map(\.event) == ["ride_requested", "ride_offered", "ride_accepted", "ride_cancelled"])
            #expect(parts.hub.subscriberCount == 0)
        }
    }

    @Test("a driver's stream carries the offers made to it and its ride's events, live")
    func driverStream() async throws {
        let (app, parts) = makeTestService()
        try await app.test(.router) { client in
            try await client.placeDriver("d1")
            async let watched = client.send(.get, "/v1/drivers/d1/events")
            try await waitForSubscribers(parts.hub, count: 1)
            try await client.send(.post, "/v1/rides", json: rideBody)
            try await client.send(.post, "/v1/rides/ride-1/decline", json: #"{"driverId": "d1"}"#)
            parts.hub.close()  // as at shutdown: ends every stream
            let events = try await parseEvents(watched.text)
            #expect(events.map(\.event) == ["ride_offered", "offer_declined"])
            #expect(events.allSatisfy { $0.data.driverId == "d1" })
        }
    }

    @Test("a subscriber that does not read is disconnected instead of holding dispatch up")
    func slowSubscriber() async throws {
        let hub = EventHub(retention: .seconds(60))
        let driver = try DriverID("d1")
        let stream = hub.subscribe(toDriver: driver)
        let ride = try RideID("ride-1")
        let rider = try RiderID("r")
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        for sequence in 1...(EventHub.bufferLimit + 10) {
            hub.publish([
                RideEvent(
                    rideID: ride,
                    riderID: rider,
                    sequence: sequence,
                    kind: .searchWidened,
                    at: at,
                    status: .requested,
                    driverID: driver,
                    offer: nil,
                    searchRadius: nil,
                    pickupDistance: nil
                )
            ])
        }
        #expect(hub.subscriberCount == 0)
        var received = 0
        for await _ in stream { received += 1 }
        #expect(received == EventHub.bufferLimit)
        // A new subscriber replays the ride's whole history.
        var replayed = 0
        if let replay = hub.subscribe(toRide: ride) {
            hub.close()
            for await _ in replay { replayed += 1 }
        }
        #expect(replayed >= EventHub.bufferLimit)
    }

    @Test("keep-alives sent slot by slot reach every stream once per round, a share of them at a time")
    func keepaliveSlots() async throws {
        /// How many keep-alives each of 60 driver streams got after sending the given slots of 15.
        func keepalives(afterSlots slots: Range<Int>) async throws -> [Int] {
            let hub = EventHub(retention: .seconds(60))
            let streams = try (0..<60).map { try hub.subscribe(toDriver: DriverID("d\($0)")) }
            for slot in slots { hub.sendKeepalives(slot: slot, of: 15) }
            hub.close()
            var counts: [Int] = []
            for stream in streams {
                var count = 0
                for await item in stream {
                    if case .keepalive = item { count += 1 }
                }
                counts.append(count)
            }
            return counts
        }
        #expect(try await keepalives(afterSlots: 0..<15).allSatisfy { $0 == 1 })
        let oneSlot = try await keepalives(afterSlots: 0..<1).reduce(0, +)
        #expect(oneSlot < 30)  // about 4 of 60: a share, not everyone at once
        #expect(try await keepalives(afterSlots: 0..<0).allSatisfy { $0 == 0 })
    }
}
