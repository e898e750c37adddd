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

    static let fence = Fence(region: "test-region", epoch: 1)

    /// Begins the region's term `epoch` by hand, as the election would.
    static func setEpoch(_ epoch: Int64, in client: PostgresClient) async throws {
        try await client.query(
            """
            INSERT INTO leadership (region, epoch, holder, address) VALUES (\(fence.region), \(epoch), 'test', 'x:1')
            ON CONFLICT (region) DO UPDATE SET epoch = EXCLUDED.epoch
            """,
            logger: TestDatabase.logger
        )
    }

    @Test("a batch of rides and events is one statement; replaying it changes nothing")
    func oneStatement() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            try await TestDatabase.withClient(configuration) { client in
                try await Migrations.apply(on: client, logger: TestDatabase.logger)
                try await Self.setEpoch(1, in: client)
                let batch = try Self.requested(3)
                let query = try #require(RideRows.write(rides: batch.rides, events: batch.events, fence: Self.fence))
                #expect(query.sql.hasPrefix("WITH fence AS ("))
                #expect(query.binds.count == 2 + 3 * RideRows.columns.count + batch.events.count * 5)
                try await client.query(query, logger: TestDatabase.logger)
                try await client.query(query, logger: TestDatabase.logger)  // a retried batch
                #expect(try await Self.count("rides", in: client) == 3)
                #expect(try await Self.count("ride_events", in: client) == batch.events.count)
                let stored = try #require(try await storedRide("ride-2", in: client))
                #expect(stored.eventTypes.first == "ride_requested")
                #expect(stored.lastSequence == batch.rides[2].sequence)
                #expect(try await Self.count("ride_events WHERE epoch = 1", in: client) == batch.events.count)
            }
        }
    }

    @Test("a write fenced by an epoch no longer current commits nothing, in one statement or a transaction")
    func staleEpoch() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            try await TestDatabase.withClient(configuration) { client in
                try await Migrations.apply(on: client, logger: TestDatabase.logger)
                try await Self.setEpoch(2, in: client)
                let batch = try Self.requested(3)
                let single = try #require(RideRows.write(rides: batch.rides, events: batch.events, fence: Self.fence))
                do {
                    try await client.query(single, logger: TestDatabase.logger)
                    Issue.record("a stale epoch committed")
                } catch {
                    #expect(Fencing.isDeposed(error))
                }
                do {
                    try await client.withTransaction(logger: TestDatabase.logger) { connection in
                        try await Fencing.prove(Self.fence, on: connection, logger: TestDatabase.logger)
                        try await connection.query(RideRows.upsert(batch.rides), logger: TestDatabase.logger)
                    }
                    Issue.record("a stale epoch committed in a transaction")
                } catch {
                    #expect(Fencing.isDeposed(error))
                }
                #expect(try await Self.count("rides", in: client) == 0)
                #expect(try await Self.count("ride_events", in: client) == 0)
                // The current epoch passes the same fence.
                let current = Fence(region: Self.fence.region, epoch: 2)
                let fresh = try #require(RideRows.write(rides: batch.rides, events: batch.events, fence: current))
                try await client.query(fresh, logger: TestDatabase.logger)
                #expect(try await Self.count("rides", in: client) == 3)
            }
        }
    }

    @Test("a batch too large for one statement's binds, or without events, takes the transaction path")
    func tooLarge() throws {
        let perRide = RideRows.columns.count + 5
        let fits = try Self.requested((RideRows.maximumBinds - 2) / perRide)
        #expect(RideRows.write(rides: fits.rides, events: fits.events, fence: Self.fence) != nil)
        let over = try Self.requested((RideRows.maximumBinds - 2) / perRide + 1)
        #expect(RideRows.write(rides: over.rides, events: over.events, fence: Self.fence) == nil)
        #expect(RideRows.write(rides: fits.rides, events: [], fence: Self.fence) == nil)
    }
}
