import DispatchCore
import DispatchTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Testing

@testable import DispatchServer

/// A ride as stored: its row's status and last sequence, and its events' sequence numbers.
struct StoredRide: Equatable {
    let status: String
    let lastSequence: Int
    let driverID: String?
    let eventSequences: [Int]
    let eventTypes: [String]
}

func storedRide(_ id: String, in client: PostgresClient) async throws -> StoredRide? {
    var row: (String, Int32, String?)?
    for try await found in try await client.query(
        "SELECT status, last_sequence, driver_id FROM rides WHERE id = \(id)"
    ).decode((String, Int32, String?).self) {
        row = found
    }
    guard let row else { return nil }
    var sequences: [Int] = []
    var types: [String] = []
    for try await (sequence, type) in try await client.query(
        "SELECT sequence, type FROM ride_events WHERE ride_id = \(id) ORDER BY sequence"
    ).decode((Int32, String).self) {
        sequences.append(Int(sequence))
        types.append(type)
    }
    return StoredRide(
        status: row.0,
        lastSequence: Int(row.1),
        driverID: row.2,
        eventSequences: sequences,
        eventTypes: types
    )
}

/// Builds the application against a database, as `dispatch-server` does with `STORAGE=postgres`.
func makePostgresApplication(_ database: DatabaseConfiguration) -> some ApplicationProtocol {
    makePostgresService(database).application
}

/// Like `makePostgresApplication`, also returning the service's parts.
func makePostgresService(
    _ database: DatabaseConfiguration
) -> (application: some ApplicationProtocol, parts: ServiceParts) {
    buildApplication(
        configuration: postgresConfiguration(database),
        dependencies: ApplicationDependencies(metricsRegistry: TestMetrics.registry)
    )
}

@Suite("Durable rides in PostgreSQL", .serialized)
struct DurabilityTests {
    @Test("every command's events are committed before its answer")
    func durableBeforeAnswer() async throws {
        try await TestDatabase.withFreshDatabase { database in
            try await TestDatabase.withClient(database) { postgres in
                let (application, parts) = makePostgresService(database)
                try await application.test(.live) { client in
                    try await client.placeDriver("d1")
                    let created = try await client.send(.post, "/v1/rides", json: rideBody)
                    #expect(created.status == .created)
                    let id = try created.json(RideJSON.self).id
                    // Checked right after each answer: the row and the events are already there.
                    #expect(
                        try await storedRide(id, in: postgres)
                            == StoredRide(
                                status: "offered",
                                lastSequence: 2,
                                driverID: nil,
                                eventSequences: [1, 2],
                                eventTypes: ["ride_requested", "ride_offered"]
                            )
                    )
                    var expectedTypes = ["ride_requested", "ride_offered"]
                    for (action, status, type) in [
                        ("accept", "accepted", "ride_accepted"), ("arrive", "arrived", "driver_arrived"),
                        ("start", "in_progress", "trip_started"), ("complete", "completed", "ride_completed"),
                    ] {
                        let response = try await client.send(
                            .post,
                            "/v1/rides/\(id)/\(action)",
                            json: #"{"driverId": "d1"}"#
                        )
                        #expect(response.status == .ok)
                        expectedTypes.append(type)
                        let stored = try await storedRide(id, in: postgres)
                        #expect(stored?.status == status)
                        #expect(stored?.driverID == "d1")
                        #expect(stored?.eventTypes == expectedTypes)
                        #expect(stored?.lastSequence == expectedTypes.count)
                    }
                    // Trip history comes from PostgreSQL.
                    let history = try await client.send(.get, "/v1/riders/rider-1/rides")
                    #expect(try history.json(RideHistoryJSON.self).rides.map(\.id) == [id])
                    let driverHistory = try await client.send(.get, "/v1/drivers/d1/rides?limit=5")
                    #expect(try driverHistory.json(RideHistoryJSON.self).rides.map(\.status) == ["completed"])
                    let before = try await client.send(.get, "/v1/riders/rider-1/rides?before=2000-01-01T00:00:00Z")
                    #expect(try before.json(RideHistoryJSON.self).rides.isEmpty)
                    #expect(try await client.send(.get, "/v1/riders/rider-1/rides?limit=0").status == .badRequest)
                    // The writer's metrics are exported.
                    let metrics = try await parts.metricsText()
                    #expect(metrics.contains("dispatch_store_commit_seconds_count"))
                    #expect(metrics.contains("dispatch_store_batch_events_count"))
                    #expect(metrics.contains("dispatch_store_available 1"))
                    // What waiting for the commit cost what was shown: the offer, and the updates after.
                    #expect(metrics.contains(#"dispatch_outbox_delay_seconds_count{path="offer"}"#))
                    #expect(metrics.contains(#"dispatch_outbox_delay_seconds_count{path="update"}"#))
                }
            }
        }
    }

    @Test("an Idempotency-Key retry after a restart returns the same ride; an operator's act is stored")
    func idempotencyAcrossRestart() async throws {
        try await TestDatabase.withFreshDatabase { database in
            let headers: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "retry-after-restart"]
            let firstID = try await makePostgresApplication(database).test(.live) { client in
                let created = try await client.send(.post, "/v1/rides", headers: headers, json: rideBody)
                #expect(created.status == .created)
                let id = try created.json(RideJSON.self).id
                // Finish it (an operator, for the rider), so after the restart it is only in the database.
                let cancelled = try await client.send(
                    .post,
                    "/v1/rides/\(id)/cancel",
                    json: #"{"riderId": "rider-1"}"#,
                    caller: .ops("support-7")
                )
                #expect(cancelled.status == .ok)
                return id
            }
            try await makePostgresApplication(database).test(.live) { client in
                let retry = try await client.send(.post, "/v1/rides", headers: headers, json: rideBody)
                #expect(retry.status == .ok)
                #expect(try retry.json(RideJSON.self).id == firstID)
                #expect(try retry.json(RideJSON.self).status == "cancelled")
                let other = rideBody.replacingOccurrences(of: "126.978", with: "126.979")
                let conflict = try await client.send(.post, "/v1/rides", headers: headers, json: other)
                #expect(conflict.status == .conflict)
                #expect(conflict.errorCode == "idempotency_key_reused")
                // The finished ride is still readable, from the database, with its events.
                #expect(try await client.send(.get, "/v1/rides/\(firstID)").json(RideJSON.self).status == "cancelled")
                let events = try parseEvents(try await client.send(.get, "/v1/rides/\(firstID)/events").text)
                #expect(events.map(\.event) == ["ride_requested", "ride_cancelled"])
                // Who acted is stored with the event.
                #expect(events.map(\.data.operatorId) == [nil, "support-7"])
                // A retry of the cancel after the restart (its answer was lost) is the conflict it is
                // in memory, not "not found"; for another rider the ride is still not found.
                let again = try await client.send(
                    .post,
                    "/v1/rides/\(firstID)/cancel",
                    json: #"{"riderId": "rider-1"}"#,
                    caller: .rider("rider-1")
                )
                #expect(again.status == .conflict)
                #expect(again.errorCode == "transition_not_allowed")
                let stranger = try await client.send(
                    .post,
                    "/v1/rides/\(firstID)/cancel",
                    json: #"{"riderId": "rider-2"}"#,
                    caller: .rider("rider-2")
                )
                #expect(stranger.status == .notFound)
            }
        }
    }

    @Test("a retry with the same Idempotency-Key is not answered until the original is durable")
    func retryWaitsForOriginal() async throws {
        try await TestDatabase.withFreshDatabase { database in
            var configuration = postgresConfiguration(database)
            configuration.commandDeadline = .milliseconds(500)
            let application = buildApplication(
                configuration: configuration,
                dependencies: ApplicationDependencies(metricsRegistry: TestMetrics.registry)
            ).application
            let headers: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "stalled-original"]
            try await TestDatabase.withClient(database) { postgres in
                try await application.test(.live) { client in
                    try await client.placeDriver("d1")
                    // Another session holds the rides table against writes (reads still pass), so no
                    // commit can finish: the original times out, applied but not durable.
                    try await postgres.withRidesLocked { _ in
                        let original = try await client.send(.post, "/v1/rides", headers: headers, json: rideBody)
                        #expect(original.status == .serviceUnavailable)
                        #expect(original.errorCode == "commit_timeout")
                        // The retry finds the ride in memory, and still does not answer 200 for it.
                        let retry = try await client.send(.post, "/v1/rides", headers: headers, json: rideBody)
                        #expect(retry.status == .serviceUnavailable)
                        #expect(retry.errorCode == "commit_timeout")
                    }
                    // Once the commit goes through, the retry is answered with the ride, which is stored.
                    var answer = try await client.send(.post, "/v1/rides", headers: headers, json: rideBody)
                    for _ in 0..<100 where answer.status != .ok {
                        try await Task.sleep(for: .milliseconds(100))
                        answer = try await client.send(.post, "/v1/rides", headers: headers, json: rideBody)
                    }
                    #expect(answer.status == .ok)
                    let id = try answer.json(RideJSON.self).id
                    #expect(try await storedRide(id, in: postgres)?.eventTypes.first == "ride_requested")
                }
            }
        }
    }

    @Test("nothing is shown before it is committed: reads, offer polls and streams wait for the outbox")
    func durableBeforeVisible() async throws {
        try await TestDatabase.withFreshDatabase { database in
            var configuration = postgresConfiguration(database)
            configuration.commandDeadline = .milliseconds(300)
            let (application, parts) = buildApplication(
                configuration: configuration,
                dependencies: ApplicationDependencies(metricsRegistry: TestMetrics.registry)
            )
            try await TestDatabase.withClient(database) { postgres in
                try await application.test(.live) { client in
                    try await client.placeDriver("d1")
                    let rideID = try await postgres.withRidesLocked { _ -> String in
                        let original = try await client.send(.post, "/v1/rides", json: rideBody)
                        #expect(original.errorCode == "commit_timeout")
                        // The dispatcher has made the offer, but it is not committed: nobody sees it.
                        let offer = try #require(parts.dispatcher.offer(heldBy: DriverID("d1")))
                        let id = offer.rideID.rawValue
                        #expect(try await client.send(.get, "/v1/drivers/d1/offer").status == .noContent)
                        #expect(
                            try await client.send(.get, "/v1/rides/\(id)", caller: .rider("rider-1")).status
                                == .notFound
                        )
                        #expect(
                            try await client.send(.get, "/v1/rides/\(id)", caller: .ops("op-1")).status == .notFound
                        )
                        #expect(
                            try await client.send(.get, "/v1/rides/\(id)/events", caller: .ops("op-1")).status
                                == .notFound
                        )
                        #expect(parts.hub.ride(offer.rideID) == nil)
                        return id
                    }
                    // Committed behind, then shown: the offer, the ride and both events.
                    var poll = try await client.send(.get, "/v1/drivers/d1/offer")
                    for _ in 0..<100 where poll.status != .ok {
                        try await Task.sleep(for: .milliseconds(50))
                        poll = try await client.send(.get, "/v1/drivers/d1/offer")
                    }
                    #expect(poll.status == .ok)
                    #expect(
                        try await storedRide(rideID, in: postgres)?.eventTypes == ["ride_requested", "ride_offered"]
                    )
                    let ride = try await client.send(.get, "/v1/rides/\(rideID)", caller: .rider("rider-1"))
                    #expect(try ride.json(RideJSON.self).status == "offered")
                    // The ride's stream replays what is committed; a cancellation ends it.
                    let cancelled = try await client.send(
                        .post,
                        "/v1/rides/\(rideID)/cancel",
                        json: #"{"riderId": "rider-1"}"#
                    )
                    #expect(cancelled.status == .ok)
                    let events = try parseEvents(
                        try await client.send(.get, "/v1/rides/\(rideID)/events", caller: .rider("rider-1")).text
                    )
                    #expect(events.map(\.event) == ["ride_requested", "ride_offered", "ride_cancelled"])
                    #expect(events.map(\.id) == ["1", "2", "3"])
                }
            }
        }
    }

    @Test("an entry the database refuses is dead-lettered; every other command commits")
    func deadLetter() async throws {
        try await TestDatabase.withFreshDatabase { database in
            let (application, parts) = makePostgresService(database)
            try await TestDatabase.withClient(database) { postgres in
                try await application.test(.live) { client in
                    try await client.placeDriver("d1")
                    try await client.placeDriver("d2", metersNorth: 300)
                    // A rule the service does not know of refuses one rider's rides.
                    try await postgres.query(
                        "ALTER TABLE rides ADD CONSTRAINT no_poison CHECK (rider_id <> 'poison-rider')",
                        logger: TestDatabase.logger
                    )
                    let poison = rideBody.replacingOccurrences(of: "rider-1", with: "poison-rider")
                    async let refused = client.send(.post, "/v1/rides", json: poison)
                    async let accepted = client.send(.post, "/v1/rides", json: rideBody)
                    let (bad, good) = try await (refused, accepted)
                    #expect(bad.status == .internalServerError)
                    #expect(bad.errorCode == "storage_refused")
                    // The refusal names nothing of the database to the client.
                    #expect(!bad.text.contains("no_poison"))
                    #expect(good.status == .created)
                    let id = try good.json(RideJSON.self).id
                    #expect(try await storedRide(id, in: postgres)?.status != nil)
                    // The queue goes on: the next command commits too.
                    let cancelled = try await client.send(
                        .post,
                        "/v1/rides/\(id)/cancel",
                        json: #"{"riderId": "rider-1"}"#
                    )
                    #expect(cancelled.status == .ok)
                    #expect(try await storedRide(id, in: postgres)?.status == "cancelled")
                    // The dead letter has the entry and the database's reason.
                    var letters: [(String, String)] = []
                    for try await row in try await postgres.query(
                        "SELECT events::text, error FROM dead_letters",
                        logger: TestDatabase.logger
                    ).decode((String, String).self) {
                        letters.append(row)
                    }
                    #expect(letters.count == 1)
                    #expect(letters.first?.0.contains("poison-rider") == true)
                    #expect(letters.first?.1.contains("no_poison") == true)
                    #expect(try await parts.metricsText().contains("dispatch_store_dead_letters_total 1"))
                }
            }
        }
    }

    @Test("a refusal inside a transaction (a driver's status) is dead-lettered too, not retried for ever")
    func deadLetterInTransaction() async throws {
        try await TestDatabase.withFreshDatabase { database in
            let (application, _) = makePostgresService(database)
            try await TestDatabase.withClient(database) { postgres in
                try await application.test(.live) { client in
                    try await client.placeDriver("ghost")
                    try await client.placeDriver("d1", metersNorth: 300)
                    try await postgres.query(
                        "ALTER TABLE driver_states ADD CONSTRAINT no_ghost CHECK (driver_id <> 'ghost')",
                        logger: TestDatabase.logger
                    )
                    // A status change is written in a transaction (not the one-statement path).
                    let refused = try await client.send(
                        .put,
                        "/v1/drivers/ghost/status",
                        json: #"{"status": "offline"}"#
                    )
                    #expect(refused.status == .internalServerError)
                    #expect(refused.errorCode == "storage_refused")
                    // The queue goes on: the next commands commit.
                    let next = try await client.send(.put, "/v1/drivers/d1/status", json: #"{"status": "offline"}"#)
                    #expect(next.status == .ok)
                    #expect(try await client.send(.post, "/v1/rides", json: rideBody).status == .created)
                    var letters: [String] = []
                    for try await (error, ) in try await postgres.query(
                        "SELECT error FROM dead_letters",
                        logger: TestDatabase.logger
                    ).decode((String,).self) {
                        letters.append(error)
                    }
                    #expect(letters.count == 1)
                    #expect(letters.first?.contains("no_ghost") == true)
                }
            }
        }
    }

    @Test("an idempotency key taken in the database meanwhile answers with the ride that holds it")
    func idempotencyConflict() async throws {
        try await TestDatabase.withFreshDatabase { database in
            let (application, parts) = makePostgresService(database)
            let headers: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "raced-key"]
            try await TestDatabase.withClient(database) { postgres in
                try await application.test(.live) { client in
                    try await client.placeDriver("d1")
                    // Commits wait on the lock; meanwhile another writer (another instance, say) stores a
                    // ride with the same rider and key, and commits.
                    let retry = try await postgres.withRidesLocked { connection in
                        let answer = Task {
                            try await client.send(.post, "/v1/rides", headers: headers, json: rideBody)
                        }
                        while parts.dispatcher.rides(where: { $0.riderID.rawValue == "rider-1" }).isEmpty {
                            try await Task.sleep(for: .milliseconds(5))
                        }
                        try await connection.query(
                            """
                            INSERT INTO rides (id, rider_id, status, pickup_lat, pickup_lng, dropoff_lat, dropoff_lng,
                                requested_at, cancelled_at, last_sequence, idempotency_key, search_radius_m, search_deadline)
                            VALUES ('stored-elsewhere', 'rider-1', 'cancelled', 37.5665, 126.978, 37.4979, 127.0276,
                                now(), now(), 1, 'raced-key', 3000, now())
                            """,
                            logger: TestDatabase.logger
                        )
                        return answer
                    }
                    let answer = try await retry.value
                    #expect(answer.status == .ok)
                    #expect(try answer.json(RideJSON.self).id == "stored-elsewhere")
                    // The ride this request made in memory is gone: not dispatched, the driver free, and
                    // the rider may ask again (with a new key).
                    #expect(parts.dispatcher.rides(where: { $0.riderID.rawValue == "rider-1" }).isEmpty)
                    #expect(try await client.send(.get, "/v1/drivers/d1").json(DriverJSON.self).status == "available")
                    let next = try await client.send(.post, "/v1/rides", json: rideBody)
                    #expect(next.status == .created)
                }
            }
        }
    }

    @Test("a read the database cannot answer in time is 503 database_unavailable, and commits are not held up")
    func readUnavailable() async throws {
        try await TestDatabase.withFreshDatabase { database in
            try await TestDatabase.withClient(database) { postgres in
                try await makePostgresApplication(database).test(.live) { client in
                    try await client.placeDriver("d1")
                    // Another session holds the rides table against everything, reads included.
                    try await postgres.withRidesLocked("ACCESS EXCLUSIVE") { _ in
                        let history = try await client.send(.get, "/v1/riders/rider-1/rides")
                        #expect(history.status == .serviceUnavailable)
                        #expect(history.errorCode == "database_unavailable")
                        #expect(history.headers[.retryAfter] == "2")
                        let gone = try await client.send(.get, "/v1/rides/no-such-ride", caller: .ops("op-1"))
                        #expect(gone.status == .serviceUnavailable)
                        // Location reports and nearby never touch the database.
                        #expect(
                            try await client.send(
                                .put,
                                "/v1/drivers/d1/location",
                                json: #"{"lat": 37.5665, "lng": 126.978}"#
                            )
                            .status == .noContent
                        )
                        #expect(
                            try await client.send(
                                .get,
                                "/v1/drivers/nearby?lat=37.5665&lng=126.978",
                                caller: .ops("op-1")
                            )
                            .status == .ok
                        )
                    }
                    let history = try await client.send(.get, "/v1/riders/rider-1/rides")
                    #expect(history.status == .ok)
                }
            }
        }
    }

    @Test("a driver who went offline is still offline after a restart, however it reports")
    func offlineSurvivesRestart() async throws {
        try await TestDatabase.withFreshDatabase { database in
            try await TestDatabase.withClient(database) { postgres in
                try await makePostgresApplication(database).test(.live) { client in
                    try await client.placeDriver("d1")
                    try await client.placeDriver("d2", metersNorth: 400)
                    let offline = try await client.send(.put, "/v1/drivers/d1/status", json: #"{"status": "offline"}"#)
                    #expect(offline.status == .ok)
                    // Stored before the answer.
                    var stored: [String] = []
                    for try await (status, ) in try await postgres.query(
                        "SELECT status FROM driver_states WHERE driver_id = 'd1'",
                        logger: TestDatabase.logger
                    ).decode((String,).self) {
                        stored.append(status)
                    }
                    #expect(stored == ["offline"])
                }
                try await makePostgresApplication(database).test(.live) { client in
                    try await client.placeDriver("d1")
                    try await client.placeDriver("d2", metersNorth: 400)
                    #expect(try await client.send(.get, "/v1/drivers/d1").json(DriverJSON.self).status == "offline")
                    #expect(try await client.send(.get, "/v1/drivers/d2").json(DriverJSON.self).status == "available")
                    // The nearer, offline driver is not offered the ride.
                    let ride = try await client.send(.post, "/v1/rides", json: rideBody)
                    #expect(try await client.send(.get, "/v1/drivers/d1/offer").status == .noContent)
                    var poll = try await client.send(.get, "/v1/drivers/d2/offer")
                    for _ in 0..<50 where poll.status != .ok {
                        try await Task.sleep(for: .milliseconds(20))
                        poll = try await client.send(.get, "/v1/drivers/d2/offer")
                    }
                    #expect(poll.status == .ok)
                    #expect(ride.status == .created)
                }
            }
        }
    }

    @Test("after a restart every unfinished ride is back, and sequences continue without gaps")
    func recovery() async throws {
        try await TestDatabase.withFreshDatabase { database in
            let ids = try await makePostgresApplication(database).test(.live) { client in
                var ids: [String: String] = [:]
                try await client.placeDriver("offered-driver", metersNorth: 100)
                ids["offered"] = try await client.send(
                    .post,
                    "/v1/rides",
                    json: rideBody.replacingOccurrences(of: "rider-1", with: "r-offered")
                ).json(RideJSON.self).id
                try await client.placeDriver("assigned-driver", metersNorth: 200)
                let assigned = try await client.send(
                    .post,
                    "/v1/rides",
                    json: rideBody.replacingOccurrences(of: "rider-1", with: "r-assigned")
                ).json(RideJSON.self).id
                ids["assigned"] = assigned
                _ = try await client.send(
                    .post,
                    "/v1/rides/\(assigned)/accept",
                    json: #"{"driverId": "assigned-driver"}"#
                )
                let busan =
                    #"{"riderId": "r-searching", "pickup": {"lat": 35.1796, "lng": 129.0756}, "dropoff": {"lat": 35.1, "lng": 129.0}}"#
                ids["searching"] = try await client.send(.post, "/v1/rides", json: busan).json(RideJSON.self).id
                return ids
            }
            try await TestDatabase.withClient(database) { postgres in
                try await makePostgresApplication(database).test(.live) { client in
                    // Its offer is re-made when drivers report; reads show it searching once the resumed
                    // search is committed (until then, they show what is stored: the old offer).
                    var offered = try await client.send(.get, "/v1/rides/\(ids["offered"] ?? "")").json(RideJSON.self)
                    for _ in 0..<100 where offered.status != "requested" {
                        try await Task.sleep(for: .milliseconds(20))
                        offered = try await client.send(.get, "/v1/rides/\(ids["offered"] ?? "")").json(RideJSON.self)
                    }
                    #expect(offered.status == "requested")
                    let assigned = try await client.send(.get, "/v1/rides/\(ids["assigned"] ?? "")").json(RideJSON.self)
                    #expect(assigned.status == "accepted")
                    #expect(assigned.driverId == "assigned-driver")
                    #expect(
                        try await client.send(.get, "/v1/rides/\(ids["searching"] ?? "")").json(RideJSON.self).status
                            == "requested"
                    )
                    #expect(
                        try await client.send(.get, "/v1/drivers/assigned-driver").json(DriverJSON.self).status
                            == "en_route"
                    )
                    // The resumed search is the offered ride's third event, stored before anyone asks.
                    try await Task.sleep(for: .milliseconds(200))
                    let stored = try await storedRide(ids["offered"] ?? "", in: postgres)
                    #expect(stored?.eventSequences == [1, 2, 3])
                    #expect(stored?.eventTypes.last == "search_resumed")
                    // The ride goes on where it was, and the offer is re-made once the driver reports.
                    #expect(
                        try await client.send(
                            .post,
                            "/v1/rides/\(ids["assigned"] ?? "")/arrive",
                            json: #"{"driverId": "assigned-driver"}"#
                        ).status == .ok
                    )
                    try await client.placeDriver("offered-driver", metersNorth: 100)
                    try await Task.sleep(for: .milliseconds(1_500))  // the greedy retry runs every second
                    let reoffered = try await client.send(.get, "/v1/drivers/offered-driver/offer")
                    #expect(reoffered.status == .ok)
                    // The assigned ride's sequence went on from the stored 3 to 4.
                    let assignedStored = try await storedRide(ids["assigned"] ?? "", in: postgres)
                    #expect(assignedStored?.eventSequences == [1, 2, 3, 4])
                    #expect(assignedStored?.eventTypes.last == "driver_arrived")
                }
            }
        }
    }

    @Test("concurrent commands on one ride keep its sequence gap-free")
    func concurrentCommands() async throws {
        try await TestDatabase.withFreshDatabase { database in
            try await TestDatabase.withClient(database) { postgres in
                try await makePostgresApplication(database).test(.live) { client in
                    for number in 0..<5 {
                        try await client.placeDriver("d\(number)", metersNorth: Double(100 + number * 50))
                    }
                    let id = try await client.send(.post, "/v1/rides", json: rideBody).json(RideJSON.self).id
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for attempt in 0..<30 {
                            group.addTask {
                                let driver = "d\(attempt % 5)"
                                let action = ["accept", "decline", "arrive"][attempt % 3]
                                _ = try await client.send(
                                    .post,
                                    "/v1/rides/\(id)/\(action)",
                                    json: #"{"driverId": "\#(driver)"}"#
                                )
                            }
                        }
                        try await group.waitForAll()
                    }
                    try await Task.sleep(for: .milliseconds(200))
                    let stored = try #require(try await storedRide(id, in: postgres))
                    #expect(stored.eventSequences == Array(1...stored.eventSequences.count))
                    #expect(stored.lastSequence == stored.eventSequences.count)
                    #expect(stored.eventSequences.count >= 3)
                }
            }
        }
    }
}

struct RideHistoryJSON: Decodable {
    let rides: [RideJSON]
}
