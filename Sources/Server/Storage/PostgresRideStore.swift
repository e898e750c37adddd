import DispatchCore
import Foundation
import Logging
import PostgresNIO

/// Reads rides and events from PostgreSQL: trip history, rides no longer in memory, event replays,
/// idempotency keys across restarts, and the unfinished rides to recover at start-up.
struct PostgresRideStore: Sendable {
    let client: PostgresClient
    let logger: Logger

    /// A ride by ID.
    func ride(_ id: RideID) async throws -> Ride? {
        try await first(
            PostgresQuery(
                unsafeSQL: "SELECT \(RideRows.selectList) FROM rides WHERE id = $1",
                binds: binds(id.rawValue)
            )
        )
    }

    /// The ride a rider's idempotency key created (keys are the rider's own: two riders may use one).
    func ride(idempotencyKey key: String, rider: RiderID) async throws -> Ride? {
        var bindings = PostgresBindings()
        bindings.append(rider.rawValue)
        bindings.append(key)
        return try await first(
            PostgresQuery(
                unsafeSQL: "SELECT \(RideRows.selectList) FROM rides WHERE rider_id = $1 AND idempotency_key = $2",
                binds: bindings
            )
        )
    }

    /// A rider's or a driver's rides, newest first, requested before `before`.
    func history(of owner: HistoryOwner, before: Date?, limit: Int) async throws -> [Ride] {
        let column = owner.isRider ? "rider_id" : "driver_id"
        var bindings = PostgresBindings()
        bindings.append(owner.id)
        bindings.append(before ?? Date.distantFuture)
        bindings.append(Int32(limit))
        let query = PostgresQuery(
            unsafeSQL: """
                SELECT \(RideRows.selectList) FROM rides
                WHERE \(column) = $1 AND requested_at < $2
                ORDER BY requested_at DESC, id DESC LIMIT $3
                """,
            binds: bindings
        )
        return try await all(query)
    }

    /// Every unfinished ride, oldest first: what the dispatcher restores at start-up.
    func unfinishedRides() async throws -> [Ride] {
        try await all(
            PostgresQuery(
                unsafeSQL: """
                    SELECT \(RideRows.selectList) FROM rides
                    WHERE status NOT IN ('completed', 'cancelled', 'unfulfilled') ORDER BY requested_at
                    """
            )
        )
    }

    /// A ride's stored events, in order.
    func events(of ride: RideID) async throws -> [StoredEvent] {
        var events: [StoredEvent] = []
        let rows = try await client.query(
            "SELECT sequence, type, payload::text, status FROM ride_events JOIN LATERAL (SELECT payload->>'status' AS status) s ON true WHERE ride_id = \(ride.rawValue) ORDER BY sequence",
            logger: logger
        )
        for try await (sequence, type, payload, status) in rows.decode((Int32, String, String, String).self) {
            // jsonb normalises spacing and key order; write it back as the live streams do.
            let compact =
                (try? JSONDecoder().decode(RideEventPayload.self, from: Data(payload.utf8))).map {
                    String(decoding: (try? JSONBody.encoder.encode($0)) ?? Data(payload.utf8), as: UTF8.self)
                } ?? payload
            events.append(
                StoredEvent(
                    sequence: Int(sequence),
                    type: type,
                    payload: compact,
                    isFinal: RideStatus(rawValue: status)?.isFinal ?? false
                )
            )
        }
        return events
    }

    private func binds(_ value: String) -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(value)
        return bindings
    }

    private func first(_ query: PostgresQuery) async throws -> Ride? {
        try await all(query).first
    }

    private func all(_ query: PostgresQuery) async throws -> [Ride] {
        var rides: [Ride] = []
        for try await row in try await client.query(query, logger: logger) {
            rides.append(try RideRows.decode(row))
        }
        return rides
    }
}

/// Whose trip history: a rider's or a driver's.
enum HistoryOwner: Sendable {
    case rider(RiderID)
    case driver(DriverID)

    var isRider: Bool {
        if case .rider = self { return true }
        return false
    }

    var id: String {
        switch self {
        case .rider(let id): id.rawValue
        case .driver(let id): id.rawValue
        }
    }
}
