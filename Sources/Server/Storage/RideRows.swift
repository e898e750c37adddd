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
        var rows: [String] = []
        rows.reserveCapacity(rides.count)
        for (index, ride) in rides.enumerated() {
            let base = index * columns.count
            rows.append("(" + (1...columns.count).map { "$\(base + $0)" }.joined(separator: ", ") + ")")
            append(ride, to: &bindings)
        }
        let updates = columns.dropFirst().map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")
        let sql = """
            INSERT INTO rides (\(selectList)) VALUES \(rows.joined(separator: ", "))
            ON CONFLICT (id) DO UPDATE SET \(updates), updated_at = now()
            WHERE rides.last_sequence < EXCLUDED.last_sequence
            """
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
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

    /// One multi-row insert of events; an event already stored (a retried batch) is skipped.
    static func insert(_ events: [RideEvent]) -> PostgresQuery {
        var bindings = PostgresBindings(capacity: events.count * 5)
        var rows: [String] = []
        rows.reserveCapacity(events.count)
        for (index, event) in events.enumerated() {
            let base = index * 5
            rows.append("($\(base + 1), $\(base + 2), $\(base + 3), $\(base + 4), $\(base + 5)::jsonb)")
            bindings.append(event.rideID.rawValue)
            bindings.append(Int32(event.sequence))
            bindings.append(event.kind.rawValue)
            bindings.append(event.at)
            bindings.append(StoredEvent.encode(event))
        }
        let sql = """
            INSERT INTO ride_events (ride_id, sequence, type, at, payload) VALUES \(rows.joined(separator: ", "))
            ON CONFLICT (ride_id, sequence) DO NOTHING
            """
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
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

    static func encode(_ event: RideEvent) -> String {
        (try? encoder.encode(RideEventPayload(event))).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

/// Stored data that does not decode: a bug or a hand-edited row.
struct StoredDataError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
