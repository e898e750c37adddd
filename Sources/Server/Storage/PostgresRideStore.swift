import DispatchCore
import Foundation
import Logging
import PostgresNIO

/// Reads rides and events from PostgreSQL: trip history, rides no longer in memory, event replays,
/// idempotency keys across restarts, and the unfinished rides to recover at start-up.
///
/// Requests' reads use their own pool (`readClient`, with a statement timeout) and a deadline each:
/// a read that cannot be answered in time, or while the database is unreachable, throws
/// `StorageUnavailable` (`503 database_unavailable`) instead of waiting or failing as a bug would.
struct PostgresRideStore: Sendable {
    /// The writer's pool: migrations and the recovery at start-up run on it, before any request.
    let client: PostgresClient
    /// The reads' pool.
    let readClient: PostgresClient
    let logger: Logger
    /// The longest a request's read may take, waiting for a connection included.
    var readDeadline = Duration.seconds(3)

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
            on: client,
            PostgresQuery(
                unsafeSQL: """
                    SELECT \(RideRows.selectList) FROM rides
                    WHERE status NOT IN ('completed', 'cancelled', 'unfulfilled') ORDER BY requested_at
                    """
            )
        )
    }

    /// The drivers stored as `offline`, for the dispatcher to remember at start-up.
    func offlineDrivers(limit: Int) async throws -> [DriverID] {
        var ids: [DriverID] = []
        for try await (raw, ) in try await client.query(DriverStates.offline(limit: limit), logger: logger).decode(
            (String,).self
        ) {
            if let id = try? DriverID(raw) { ids.append(id) }
        }
        return ids
    }

    /// A ride's stored events, in order.
    func events(of ride: RideID) async throws -> [StoredEvent] {
        try await read { [readClient, logger] in
            var events: [StoredEvent] = []
            let rows = try await readClient.query(
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
    }

    /// A ride's decision records, in offer order.
    func decisions(of ride: RideID) async throws -> [DecisionRecordJSON] {
        try await read { [readClient, logger] in
            try await DecisionRows.read(ride: ride, on: readClient, logger: logger)
        }
    }

    private func binds(_ value: String) -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(value)
        return bindings
    }

    private func first(_ query: PostgresQuery) async throws -> Ride? {
        try await all(query).first
    }

    /// A request's read of rides, on the reads' pool, within the read deadline.
    private func all(_ query: PostgresQuery) async throws -> [Ride] {
        try await read { [readClient] in try await all(on: readClient, query) }
    }

    private func all(on client: PostgresClient, _ query: PostgresQuery) async throws -> [Ride] {
        var rides: [Ride] = []
        for try await row in try await client.query(query, logger: logger) {
            rides.append(try RideRows.decode(row))
        }
        return rides
    }

    /// Runs a read within `readDeadline`; the database's unavailability becomes `StorageUnavailable`.
    private func read<Value: Sendable>(_ body: @escaping @Sendable () async throws -> Value) async throws -> Value {
        do {
            return try await withDeadline(readDeadline, body)
        } catch is TimeoutError {
            throw StorageUnavailable(reason: "no answer within \(readDeadline)")
        } catch let error as PSQLError where StorageUnavailable.isUnavailability(error) {
            throw StorageUnavailable(reason: String(reflecting: error.code))
        }
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

/// The database could not answer a read now (unreachable, restarting, too slow): the request may be
/// retried later. (`APIError` maps it to `503 database_unavailable`; storage knows nothing of HTTP.)
struct StorageUnavailable: Error, CustomStringConvertible {
    let reason: String

    var description: String { "the database is unavailable: \(reason)" }

    /// Whether a PostgresNIO error means "not now" rather than a bug: anything but a statement the
    /// server refused for its data, its constraints or its SQL (SQLSTATE classes 22, 23 and 42): for a
    /// read, those are bugs (500). The writer judges its own refusals (`RideWriter.refusal(in:)`).
    static func isUnavailability(_ error: PSQLError) -> Bool {
        guard let state = error.serverInfo?[.sqlState] else { return true }
        return !["22", "23", "42"].contains(String(state.prefix(2)))
    }
}
