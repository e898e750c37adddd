import DispatchCore
import Foundation
import Geo
import PostgresNIO
import Testing

@testable import DispatchServer

@Suite("Writing rides and events: one statement, or a transaction for large batches", .serialized)
struct RideRowsTests {
    /// Rides requested in a fresh dispatcher, with their `ride_requested` events.
    static func requested(_ count: Int) throws -> (rides: [Ride], events: [RideEvent]) {
        var state = DispatchState(configuration: DispatchConfiguration())
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let pickup = try Coordinate(latitude: 37.5665, longitude: 126.978)
        let dropoff = try Coordinate(latitude: 37.4979, longitude: 127.0276)
        var rides: [Ride] = []
        for number in 0..<count {
            let outcome = try state.requestRide(
                RideRequest(riderID: try RiderID("rider-\(number)"), pickup: pickup, dropoff: dropoff),
                idempotencyKey: "key-\(number)",
                id: try RideID("ride-\(number)"),
                now: now
            )
            rides.append(outcome.ride)
        }
        return (rides, state.drainEvents())
    }

    static func count(_ table: String, in client: PostgresClient) async throws -> Int {
        var total = 0
        for try await (value) in try await client.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"))
            .decode(Int.self)
        {
            total = value
        }
        return total
    }

    @Test("a batch of rides and events is one statement; replaying it changes nothing")
    func oneStatement() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            try await TestDatabase.withClient(configuration) { client in
                try await Migrations.apply(on: client, logger: TestDatabase.logger)
                let batch = try Self.requested(3)
                let query = try #require(RideRows.write(rides: batch.rides, events: batch.events))
                #expect(query.sql.hasPrefix("WITH upserted AS ("))
                #expect(query.binds.count == 3 * RideRows.columns.count + batch.events.count * 5)
                try await client.query(query, logger: TestDatabase.logger)
                try await client.query(query, logger: TestDatabase.logger)  // a retried batch
                #expect(try await Self.count("rides", in: client) == 3)
                #expect(try await Self.count("ride_events", in: client) == batch.events.count)
                let stored = try #require(try await storedRide("ride-2", in: client))
                #expect(stored.eventTypes.first == "ride_requested")
                #expect(stored.lastSequence == batch.rides[2].sequence)
            }
        }
    }

    @Test("a batch too large for one statement's binds, or without events, takes the transaction path")
    func tooLarge() throws {
        let perRide = RideRows.columns.count + 5
        let fits = try Self.requested(RideRows.maximumBinds / perRide)
        #expect(RideRows.write(rides: fits.rides, events: fits.events) != nil)
        let over = try Self.requested(RideRows.maximumBinds / perRide + 1)
        #expect(RideRows.write(rides: over.rides, events: over.events) == nil)
        #expect(RideRows.write(rides: fits.rides, events: []) == nil)
    }
}
