import DispatchCore
import Foundation
import Logging
import PostgresNIO

/// How offers' decision records map to `offer_decisions`: one row per `ride_offered` event, written
/// with it (`RideRows.write`, or the writer's transaction) and read back for operators and replays.
enum DecisionRows {
    /// One decision to store.
    struct Row: Sendable {
        let rideID: RideID
        let sequence: Int
        let driverID: DriverID
        let offeredAt: Date
        let policy: String
        let record: String
    }

    /// Binds per row.
    static let bindsPerRow = 6

    /// The decision rows of the offers among `events`; `rides` (the batch's latest state of each ride)
    /// supply when each was requested.
    static func rows(events: [RideEvent], rides: [RideID: Ride]) -> [Row] {
        events.compactMap { event in
            guard event.kind == .rideOffered, let offer = event.offer else { return nil }
            let requestedAt = rides[event.rideID]?.requestedAt ?? event.at
            return Row(
                rideID: event.rideID,
                sequence: event.sequence,
                driverID: offer.driverID,
                offeredAt: offer.offeredAt,
                policy: offer.explanation.policy,
                record: DecisionRecordJSON(offer: offer, sequence: event.sequence, requestedAt: requestedAt).encoded()
            )
        }
    }

    /// The columns, for an `INSERT INTO offer_decisions (…)`.
    static let columns = "ride_id, sequence, driver_id, offered_at, policy, record"

    /// Appends the rows' values to `bindings` (numbered after those already there) and returns their
    /// `VALUES` list.
    static func valuesSQL(_ rows: [Row], into bindings: inout PostgresBindings) -> String {
        rows.map { row in
            let base = bindings.count
            bindings.append(row.rideID.rawValue)
            bindings.append(Int32(row.sequence))
            bindings.append(row.driverID.rawValue)
            bindings.append(row.offeredAt)
            bindings.append(row.policy)
            bindings.append(row.record)
            return "($\(base + 1), $\(base + 2)::integer, $\(base + 3), $\(base + 4)::timestamptz, $\(base + 5), "
                + "$\(base + 6)::jsonb)"
        }
        .joined(separator: ", ")
    }

    /// One multi-row insert (inside the writer's transaction, after the events); a decision already
    /// stored (a retried batch) is skipped.
    static func insert(_ rows: [Row]) -> PostgresQuery {
        var bindings = PostgresBindings(capacity: rows.count * bindsPerRow)
        let values = valuesSQL(rows, into: &bindings)
        return PostgresQuery(
            unsafeSQL: """
                INSERT INTO offer_decisions (\(columns)) VALUES \(values)
                ON CONFLICT (ride_id, sequence) DO NOTHING
                """,
            binds: bindings
        )
    }

    /// A ride's records, in offer order.
    static func read(ride: RideID, on client: PostgresClient, logger: Logger) async throws -> [DecisionRecordJSON] {
        var records: [DecisionRecordJSON] = []
        let rows = try await client.query(
            "SELECT record::text FROM offer_decisions WHERE ride_id = \(ride.rawValue) ORDER BY sequence",
            logger: logger
        )
        for try await (record, ) in rows.decode((String,).self) { records.append(try decode(record)) }
        return records
    }

    /// Up to `limit` records made at or after `since`, oldest first (a batch's offers share a time, so
    /// they come together).
    static func read(
        since: Date,
        limit: Int,
        on client: PostgresClient,
        logger: Logger
    ) async throws -> [(offeredAt: Date, record: DecisionRecordJSON)] {
        var records: [(offeredAt: Date, record: DecisionRecordJSON)] = []
        let rows = try await client.query(
            "SELECT offered_at, record::text FROM offer_decisions WHERE offered_at >= \(since) ORDER BY offered_at, ride_id, sequence LIMIT \(limit)",
            logger: logger
        )
        for try await (at, record) in rows.decode((Date, String).self) { records.append((at, try decode(record))) }
        return records
    }

    /// Decodes a stored record.
    static func decode(_ text: String) throws -> DecisionRecordJSON {
        do {
            return try JSONDecoder().decode(DecisionRecordJSON.self, from: Data(text.utf8))
        } catch {
            throw StoredDataError("a stored decision record does not decode: \(error)")
        }
    }
}
