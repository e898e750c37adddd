import DispatchCore
import Foundation
import Geo
import PostgresNIO

/// How rides and their events map to the `rides` and `ride_events` tables.
enum RideRows {
    /// The columns of `rides`, in the order of `append(_:to:)` and `decode(_:)`.
    static let columns = [
        "id", "rider_id", "status", "pickup_lat", "pickup_lng", "dropoff_lat", "dropoff_lng", "driver_id",
        "pickup_distance_m", "eta_ms", "requested_at", "offered_at", "accepted_at", "arrived_at", "started_at",
        "completed_at", "cancelled_at", "last_sequence", "idempotency_key", "search_radius_m", "search_deadline",
        "excluded_drivers",
    ]

    static let selectList = columns.joined(separator: ", ")

    /// One multi-row upsert of rides' current state. A row only moves forward: an update with an older
    /// sequence (a retried batch) changes nothing.
    static func upsert(_ rides: [Ride]) -> PostgresQuery {
        var bindings = PostgresBindings(capacity: rides.count * columns.count)
        let sql = upsertSQL(rides, into: &bindings)
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }

    /// The most binds one statement may carry (PostgreSQL's wire protocol counts them in 16 bits).
    static let maximumBinds = 65_535

    /// The rides' upserts and their events' inserts as one statement (a data-modifying `WITH`): a single
    /// round trip, atomic as its own implicit transaction, instead of `BEGIN`, two statements and
    /// `COMMIT`. Under load every round trip waits for a scheduler slot on both sides, so this is what
    /// a command's commit wait is mostly made of. (The events' foreign key is checked at the end of the
    /// statement, after the rides are in.)
    ///
    /// Fenced: the statement's first part (`dispatch_fence`) proves `fence` is the region's current
    /// epoch, holding the leadership row `FOR SHARE` until it commits, and fails the whole statement
    /// with `Fencing.sqlState` otherwise. Each event records the epoch that wrote it.
    /// - Returns: Nil for a batch with no rides or no events, or too large for one statement's binds.
    static func write(
        rides: [Ride],
        events: [RideEvent],
        decisions: [DecisionRows.Row] = [],
        fence: Fence
    ) -> PostgresQuery? {
        let binds = 2 + rides.count * columns.count + events.count * 5 + decisions.count * DecisionRows.bindsPerRow
        guard !rides.isEmpty, !events.isEmpty, binds <= maximumBinds else { return nil }
        var bindings = PostgresBindings(capacity: binds)
        bindings.append(fence.region)
        bindings.append(fence.epoch)
        let upsert = upsertSQL(rides, into: &bindings)
        // The offers' decision records, in the same statement as their events (whose key they reference).
        let decided =
            decisions.isEmpty
            ? ""
            : """
            ,
            decided AS (
            INSERT INTO offer_decisions (\(DecisionRows.columns))
            SELECT d.* FROM (VALUES \(DecisionRows.valuesSQL(decisions, into: &bindings))) AS d CROSS JOIN fence
            ON CONFLICT (ride_id, sequence) DO NOTHING
            )
            """
        let values = valuesSQL(events, into: &bindings)
        return PostgresQuery(
            unsafeSQL: """
                WITH fence AS (SELECT \(Fencing.function)($1, $2) AS epoch),
                upserted AS (
                \(upsert)
                )\(decided)
                INSERT INTO ride_events (ride_id, sequence, type, at, payload, epoch)
                SELECT v.ride_id, v.sequence, v.type, v.at, v.payload, fence.epoch
                FROM (VALUES \(values)) AS v(ride_id, sequence, type, at, payload) CROSS JOIN fence
                ON CONFLICT (ride_id, sequence) DO NOTHING
                """,
            binds: bindings
        )
    }

    /// Appends the rides' values to `bindings` (numbered after those already there) and returns the upsert.
    private static func upsertSQL(_ rides: [Ride], into bindings: inout PostgresBindings) -> String {
        var rows: [String] = []
        rows.reserveCapacity(rides.count)
        for ride in rides {
            let base = bindings.count
            rows.append("(" + (1...columns.count).map { "$\(base + $0)" }.joined(separator: ", ") + ")")
            append(ride, to: &bindings)
        }
        let updates = columns.dropFirst().map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")
        return """
            INSERT INTO rides (\(selectList)) VALUES \(rows.joined(separator: ", "))
            ON CONFLICT (id) DO UPDATE SET \(updates), updated_at = now()
            WHERE rides.last_sequence < EXCLUDED.last_sequence
            """
    }

    private static func append(_ ride: Ride, to bindings: inout PostgresBindings) {
        bindings.append(ride.id.rawValue)
        bindings.append(ride.riderID.rawValue)
        bindings.append(ride.status.rawValue)
        bindings.append(ride.pickup.latitude)
        bindings.append(ride.pickup.longitude)
        bindings.append(ride.dropoff.latitude)
        bindings.append(ride.dropoff.longitude)
        bindings.append(ride.driverID?.rawValue)
        bindings.append(ride.pickupDistance?.value)
        bindings.append(
            ride.eta.map { Int64($0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000) }
        )
        bindings.append(ride.requestedAt)
        bindings.append(ride.offeredAt)
        bindings.append(ride.acceptedAt)
        bindings.append(ride.arrivedAt)
        bindings.append(ride.startedAt)
        bindings.append(ride.completedAt)
        bindings.append(ride.cancelledAt)
        bindings.append(Int32(ride.sequence))
        bindings.append(ride.idempotencyKey)
        bindings.append(ride.search.radius.value)
        bindings.append(ride.search.deadline)
        bindings.append(ride.search.excluded.map(\.rawValue).sorted().joined(separator: ","))
    }

    /// One multi-row insert of events written in `epoch` (inside a transaction that proved it current);
    /// an event already stored (a retried batch) is skipped.
    static func insert(_ events: [RideEvent], epoch: Int64) -> PostgresQuery {
        var bindings = PostgresBindings(capacity: events.count * 5 + 1)
        bindings.append(epoch)
        let values = valuesSQL(events, into: &bindings, epoch: "$1")
        return PostgresQuery(
            unsafeSQL: """
                INSERT INTO ride_events (ride_id, sequence, type, at, payload, epoch) VALUES \(values)
                ON CONFLICT (ride_id, sequence) DO NOTHING
                """,
            binds: bindings
        )
    }

    /// Appends the events' values to `bindings` (numbered after those already there) and returns their
    /// rows, each ending with `epoch` when one is given.
    private static func valuesSQL(
        _ events: [RideEvent],
        into bindings: inout PostgresBindings,
        epoch: String? = nil
    ) -> String {
        var rows: [String] = []
        rows.reserveCapacity(events.count)
        let suffix = epoch.map { ", \($0))" } ?? ")"
        for event in events {
            let base = bindings.count
            rows.append("($\(base + 1), $\(base + 2), $\(base + 3), $\(base + 4), $\(base + 5)::jsonb" + suffix)
            bindings.append(event.rideID.rawValue)
            bindings.append(Int32(event.sequence))
            bindings.append(event.kind.rawValue)
            bindings.append(event.at)
            bindings.append(StoredEvent.encode(event))
        }
        return rows.joined(separator: ", ")
    }

    typealias Row = (
        String, String, String, Double, Double, Double, Double, String?, Double?, Int64?, Date, Date?, Date?,
        Date?, Date?, Date?, Date?, Int32, String?, Double, Date, String
    )

    /// A ride from a `rides` row selected with `selectList`.
    static func decode(_ row: PostgresRow) throws -> Ride {
        let (
            id, rider, status, pickupLat, pickupLng, dropoffLat, dropoffLng, driver, pickupDistance, etaMilliseconds,
            requestedAt, offeredAt, acceptedAt, arrivedAt, startedAt, completedAt, cancelledAt, sequence, key, radius,
            deadline, excluded
        ) = try row.decode(Row.self)
        guard let rideStatus = RideStatus(rawValue: status) else {
            throw StoredDataError("unknown ride status \(status)")
        }
        return Ride(
            restoring: try RideID(id),
            request: RideRequest(
                riderID: try RiderID(rider),
                pickup: try Coordinate(latitude: pickupLat, longitude: pickupLng),
                dropoff: try Coordinate(latitude: dropoffLat, longitude: dropoffLng)
            ),
            status: rideStatus,
            driverID: try driver.map { try DriverID($0) },
            pickupDistance: pickupDistance.map { Meters($0) },
            eta: etaMilliseconds.map { .milliseconds($0) },
            requestedAt: requestedAt,
            offeredAt: offeredAt,
            acceptedAt: acceptedAt,
            arrivedAt: arrivedAt,
            startedAt: startedAt,
            completedAt: completedAt,
            cancelledAt: cancelledAt,
            sequence: Int(sequence),
            searchRadius: Meters(radius),
            searchDeadline: deadline,
            excluded: Set(try excluded.split(separator: ",").map { try DriverID(String($0)) }),
            idempotencyKey: key
        )
    }
}

/// A stored event as the streams replay it.
struct StoredEvent: Sendable, Equatable {
    let sequence: Int
    let type: String
    /// The event's JSON, as the streams' `data:` line carries it.
    let payload: String
    let isFinal: Bool

    /// The event's one wire encoding (`RideEventPayload.json`), as streams, the channel and storage
    /// carry it.
    static func encode(_ event: RideEvent) -> String {
        RideEventPayload.json(event)
    }
}

/// Stored data that does not decode: a bug or a hand-edited row.
struct StoredDataError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
