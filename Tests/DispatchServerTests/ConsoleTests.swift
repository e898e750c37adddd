import DispatchCore
import DispatchTestSupport
import Foundation
import Geo
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

@testable import DispatchServer

/// A frame of the ops stream, decoded.
private struct OpsFrameJSON: Decodable {
    struct Stats: Decodable {
        struct Totals: Decodable {
            let requested: Int
            let accepted: Int
            let declined: Int
        }
        let drivers: [String: Int]
        let openRides: Int
        let totals: Totals
        let perMinute: Totals
    }
    let seq: Int
    let drivers: [[JSONValue]]
    let driversGone: [String]?
    let rides: [[JSONValue]]
    let ridesGone: [String]?
    let stats: Stats
    let history: [Stats]?

    /// Driver rows by ID: `[lat, lon, state, rideId?]`.
    var driversByID: [String: [JSONValue]] {
        Dictionary(
            uniqueKeysWithValues: drivers.compactMap { row in row.first?.string.map { ($0, Array(row.dropFirst())) } }
        )
    }
}

/// A JSON scalar in a frame's rows.
private enum JSONValue: Decodable, Equatable {
    case string(String)
    case number(Double)
    case null

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let string = try? container.decode(String.self) {
            self = .string(string)
        } else {
            self = .number(try container.decode(Double.self))
        }
    }

    var string: String? { if case .string(let value) = self { value } else { nil } }
    var number: Double? { if case .number(let value) = self { value } else { nil } }
}

private func decodeFrame(_ text: String) throws -> (event: String, frame: OpsFrameJSON) {
    let lines = text.split(separator: "\n")
    let event = try #require(lines.first { $0.hasPrefix("event: ") }).dropFirst(7)
    let data = try #require(lines.first { $0.hasPrefix("data: ") }).dropFirst(6)
    return (String(event), try JSONDecoder().decode(OpsFrameJSON.self, from: Data(data.utf8)))
}

/// Seoul City Hall, where the tests' drivers wait.
private let cityHall = try! Coordinate(latitude: 37.5665, longitude: 126.978)

@Suite("The operators' console: the ops stream's frames, decisions and access")
struct ConsoleTests {
    let clock = ManualClock(start: testEpoch)
    let recorder = OpsRecorder()

    /// A feed that builds a frame whenever asked, over a dispatcher with the tests' clock.
    func feed(
        journalCapacity: Int = ChangeJournal<DriverID>.defaultCapacity,
        framesKept: Int = OpsFeed.Settings().framesKept
    ) -> (OpsFeed, Dispatcher) {
        var configuration = DispatchConfiguration()
        configuration.driverFreshness = .seconds(30)
        configuration.changeJournalCapacity = journalCapacity
        let dispatcher = Dispatcher(
            configuration: configuration,
            clock: clock,
            rideIDs: SequentialRideIDs(),
            events: recorder
        )
        var settings = OpsFeed.Settings()
        settings.frameInterval = .zero
        settings.framesKept = framesKept
        let feed = OpsFeed(
            dispatcher: dispatcher,
            recorder: recorder,
            writer: nil,
            leadership: .alone(),
            identity: (pod: "pod-a", region: "seoul"),
            settings: settings
        )
        return (feed, dispatcher)
    }

    /// What a viewer that has frame `sequence` is sent next, decoded.
    fileprivate func next(_ feed: OpsFeed, after sequence: Int?) throws -> (event: String, frame: OpsFrameJSON) {
        try decodeFrame(OpsStreamEncoding.encode(feed.update(after: sequence), feed: feed))
    }

    @Test("a snapshot holds every driver; each delta only what changed, and drivers' states as the map colours them")
    func snapshotThenDeltas() throws {
        let (feed, dispatcher) = feed()
        let north = cityHall.destination(bearing: .north, distance: 300)
        _ = try dispatcher.updateLocation(DriverID("near"), to: cityHall, recordedAt: nil)
        _ = try dispatcher.updateLocation(DriverID("far"), to: north, recordedAt: nil)
        let (event, snapshot) = try next(feed, after: nil)
        #expect(event == "snapshot")
        #expect(Set(snapshot.driversByID.keys) == ["near", "far"])
        #expect(snapshot.driversByID["near"]?[2] == .string("available"))
        #expect(abs((snapshot.driversByID["far"]?[0].number ?? 0) - north.latitude) < 1e-5)
        #expect(snapshot.rides.isEmpty)
        #expect(snapshot.history != nil)

        // A ride is offered to the nearest driver: the ride and that driver change, the other does not.
        let ride = try dispatcher.requestRide(
            RideRequest(riderID: RiderID("rider-1"), pickup: cityHall, dropoff: north),
            idempotencyKey: nil
        ).value.ride
        // The panel's numbers are sampled once a second (`OpsFeed.run`); frames carry the latest sample.
        #expect(feed.frame().stats.totals.requested == 0)
        feed.sample()
        let (kind, delta) = try next(feed, after: snapshot.seq)
        #expect(kind == "delta")
        #expect(delta.seq > snapshot.seq)
        #expect(Set(delta.driversByID.keys) == ["near"])
        #expect(delta.driversByID["near"]?[2] == .string("offered"))
        #expect(delta.driversByID["near"]?[3] == .string(ride.id.rawValue))
        #expect(delta.rides.count == 1)
        #expect(delta.rides.first?[0] == .string(ride.id.rawValue))
        #expect(delta.rides.first?[1] == .string("offered"))
        #expect(delta.rides.first?[7] == .string("near"))
        #expect(delta.stats.totals.requested == 1)

        // Nothing moved: an empty delta. A move under a metre changes nothing on the map either. Then
        // the far driver falls silent past freshness: stale.
        _ = try dispatcher.updateLocation(
            DriverID("far"),
            to: north.destination(bearing: .east, distance: 0.2),
            recordedAt: nil
        )
        let (_, quiet) = try next(feed, after: delta.seq)
        #expect(quiet.drivers.isEmpty && quiet.rides.isEmpty && quiet.driversGone == [] && quiet.ridesGone == [])
        clock.advance(by: 31)
        let (_, stale) = try next(feed, after: quiet.seq)
        #expect(stale.driversByID.keys.sorted() == ["far"])
        #expect(stale.driversByID["far"]?[2] == .string("stale"))

        // The ride is cancelled: it is gone from the map, and the driver is available again.
        _ = try dispatcher.cancel(ride.id, byRider: RiderID("rider-1"))
        let (_, gone) = try next(feed, after: stale.seq)
        #expect(gone.ridesGone == [ride.id.rawValue])
        #expect(gone.rides.isEmpty)
        #expect(gone.driversByID["near"]?.count == 3)  // no ride any more

        // A viewer several frames behind gets their changes merged: the ride came and went, the near
        // driver was offered it and freed.
        let (_, merged) = try next(feed, after: snapshot.seq)
        #expect(merged.seq >= gone.seq)
        #expect(merged.rides.isEmpty && merged.ridesGone == [ride.id.rawValue])
        #expect(merged.driversByID["near"]?[2] == .string("stale"))
        #expect(merged.driversByID["far"]?[2] == .string("stale"))
    }

    @Test("a viewer further behind than the frames kept gets the whole map again, as it is now")
    func farBehindGetsSnapshot() throws {
        let (feed, dispatcher) = feed(framesKept: 4)
        let (_, first) = try next(feed, after: nil)
        var frames: [Int] = []
        for step in 1...5 {
            _ = try dispatcher.updateLocation(
                DriverID("d\(step)"),
                to: cityHall.destination(bearing: .east, distance: Meters(Double(step) * 100)),
                recordedAt: nil
            )
            frames.append(feed.frame().sequence)
        }
        let (event, again) = try next(feed, after: first.seq)
        #expect(event == "snapshot")
        #expect(Set(again.driversByID.keys) == ["d1", "d2", "d3", "d4", "d5"])
        // The frames since d3's are still held (with the one each update builds): a delta of d4 and d5.
        let (kind, recent) = try next(feed, after: frames[2])
        #expect(kind == "delta")
        #expect(Set(recent.driversByID.keys) == ["d4", "d5"])
    }

    @Test(
        "when the dispatcher's journal no longer reaches back, the feed compares the whole city, and sends only the difference"
    )
    func journalOverflowResyncs() throws {
        let (feed, dispatcher) = feed(journalCapacity: 4)
        for name in ["still", "moves", "leaves"] {
            _ = try dispatcher.updateLocation(DriverID(name), to: cityHall, recordedAt: nil)
        }
        let (_, first) = try next(feed, after: nil)
        #expect(first.drivers.count == 3)
        // More changes than the journal keeps: two of them land where they were.
        let east = cityHall.destination(bearing: .east, distance: 200)
        for _ in 0..<3 { _ = try dispatcher.updateLocation(DriverID("still"), to: cityHall, recordedAt: nil) }
        _ = try dispatcher.updateLocation(DriverID("moves"), to: east, recordedAt: nil)
        _ = try dispatcher.setStatus(DriverID("leaves"), to: .offline)
        _ = try dispatcher.updateLocation(DriverID("new"), to: east, recordedAt: nil)
        let (event, delta) = try next(feed, after: first.seq)
        #expect(event == "delta")
        #expect(Set(delta.driversByID.keys) == ["moves", "leaves", "new"])
        #expect(delta.driversByID["leaves"]?[2] == .string("offline"))
        #expect(abs((delta.driversByID["moves"]?[1].number ?? 0) - east.longitude) < 1e-5)
    }

    @Test("the writer sends a snapshot first, then deltas, until the viewer goes")
    func writerSendsSnapshotThenDeltas() async throws {
        let (feed, dispatcher) = feed()
        _ = try dispatcher.updateLocation(DriverID("d1"), to: cityHall, recordedAt: nil)
        let sent = Mutex<[String]>([])
        struct Gone: Error {}
        await #expect(throws: Gone.self) {
            try await OpsStreamWriter(feed: feed).run { text in
                let count = sent.withLock { sent in
                    sent.append(text)
                    return sent.count
                }
                if count == 1 {
                    _ = try dispatcher.updateLocation(
                        DriverID("d2"),
                        to: cityHall.destination(bearing: .east, distance: 50),
                        recordedAt: nil
                    )
                }
                if count == 3 { throw Gone() }
            }
        }
        let frames = try sent.withLock { try $0.map(decodeFrame) }
        #expect(frames.map(\.event) == ["snapshot", "delta", "delta"])
        #expect(Set(frames[0].frame.driversByID.keys) == ["d1"])
        #expect(Set(frames[1].frame.driversByID.keys) == ["d2"])
        #expect(frames[2].frame.drivers.isEmpty)
    }

    @Test("a console's slot is given back however its stream ends, even if its body never ran")
    func viewerSlots() {
        let viewers = ConsoleController<DispatchRequestContext>.ViewerCount(maximum: 2)
        var first = viewers.enter()
        let second = viewers.enter()
        #expect(first != nil && second != nil)
        #expect(viewers.enter() == nil)
        #expect(viewers.current == 2)
        first = nil  // a response dropped before its body ran
        #expect(viewers.current == 1)
        #expect(viewers.enter() != nil)  // given back at once (and released again here)
        #expect(viewers.current == 1)
        withExtendedLifetime(second) {}
    }

    @Test("a ride's decision record lists the candidates, the chosen rank and each offer's outcome")
    func decisionRecord() async throws {
        try await makeTestApplication().test(.router) { client in
            try await client.placeDriver("d1")
            try await client.placeDriver("d2", metersNorth: 500)
            try await client.send(.post, "/v1/rides", json: rideBody)
            try await client.send(.post, "/v1/rides/ride-1/decline", json: #"{"driverId": "d1"}"#)
            let response = try await client.send(.get, "/v1/ops/rides/ride-1", caller: .ops("console"))
            #expect(response.status == .ok)
            let decision = try response.json(DecisionJSON.self)
            #expect(decision.offers.map(\.driverId) == ["d1", "d2"])
            #expect(decision.offers.map(\.outcome) == ["declined", "open"])
            #expect(decision.offers[0].candidates.map(\.driverId) == ["d1", "d2"])
            #expect(decision.offers[0].candidates.map(\.chosen) == [true, false])
            #expect(decision.offers[1].candidates.map(\.driverId) == ["d2"])
            #expect(decision.offers[0].rank == 1 && decision.offers[0].matching == "greedy")
            #expect(decision.offers[0].ranking == "distance")
            #expect(
                decision.events.compactMap { $0["type"] ?? nil }.prefix(3) == [
                    "ride_requested", "ride_offered", "offer_declined",
                ]
            )

            let driver = try await client.send(.get, "/v1/ops/drivers/d2", caller: .ops("console"))
            #expect(driver.status == .ok)
            #expect(driver.text.contains(#""state":"offered""#))
        }
    }

    @Test("the ops routes take an operator's token; the page needs none and names no other origin")
    func access() async throws {
        var configuration = ServerConfiguration()
        configuration.maximumOpsViewers = 0
        try await makeTestApplication(configuration: configuration).test(.router) { client in
            try await client.placeDriver("d1")
            try await client.send(.post, "/v1/rides", json: rideBody)
            for path in ["/v1/ops/stream", "/v1/ops/rides/ride-1", "/v1/ops/drivers/d1"] {
                let rider = try await client.send(.get, path, caller: .rider("rider-1"))
                #expect(rider.status == .forbidden, "\(path)")
                #expect(rider.errorCode == "forbidden")
                let driver = try await client.send(.get, path, caller: .driver("d1"))
                #expect(driver.status == .forbidden, "\(path)")
                let nobody = try await client.send(.get, path, caller: .nobody)
                #expect(nobody.status == .unauthorized, "\(path)")
            }
            let unknown = try await client.send(.get, "/v1/ops/rides/ride-9", caller: .ops("console"))
            #expect(unknown.status == .notFound)
            #expect(unknown.errorCode == "ride_not_found")
            // Past MAX_OPS_VIEWERS (0 here), a clear 503 with Retry-After.
            let full = try await client.send(.get, "/v1/ops/stream", caller: .ops("console"))
            #expect(full.status == .serviceUnavailable)
            #expect(full.errorCode == "too_many_viewers")
            #expect(full.headers[.retryAfter] != nil)

            let root = try await client.send(.get, "/", caller: .nobody)
            #expect(root.status == .seeOther)
            #expect(root.headers[.location] == "/console")
            let page = try await client.send(.get, "/console", caller: .nobody)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            let policy = try #require(page.headers[.contentSecurityPolicy])
            #expect(policy.contains("default-src 'none'") && policy.contains("connect-src 'self'"))
            #expect(page.text.contains(#"<canvas id="map""#))
            for asset in ["/console/console.js", "/console/console.css"] {
                let response = try await client.send(.get, asset, caller: .nobody)
                #expect(response.status == .ok)
                // Self-contained: nothing is loaded from another host.
                #expect(!response.text.contains("http://") && !response.text.contains("https://"), "\(asset)")
            }
            #expect(!page.text.contains("http://") && !page.text.contains("https://"))
        }
    }
}

/// A ride's decision record as `GET /v1/ops/rides/{rideId}` returns it.
struct DecisionJSON: Decodable {
    struct Offer: Decodable {
        struct Candidate: Decodable {
            let driverId: String
            let distanceMeters: Double
            let etaSeconds: Double
            let chosen: Bool
        }
        let driverId: String
        let matching: String
        let ranking: String
        let rank: Int
        let etaSeconds: Double
        let outcome: String
        let candidates: [Candidate]
    }
    let offers: [Offer]
    let events: [[String: String?]]
}
