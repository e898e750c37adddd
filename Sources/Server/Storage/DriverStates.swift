import DispatchCore
import Foundation
import PostgresNIO

/// The `driver_states` table: each driver's own latest status (`available` or `offline`), so that a
/// restart never makes a driver who went offline available again. Written by the group commit with
/// the rides; read once at start-up.
enum DriverStates {
    /// The upsert of a batch's changes: the latest per driver. The single writer commits changes in the
    /// order they were made, and a restarted process's changes come after the previous one's, so the
    /// last write is the latest (`changed_at` is informational: clocks of two processes may disagree).
    static func upsert(_ changes: [DriverStatusChange]) -> PostgresQuery? {
        var latest: [DriverID: DriverStatusChange] = [:]
        for change in changes { latest[change.driverID] = change }
        guard !latest.isEmpty else { return nil }
        var bindings = PostgresBindings(capacity: latest.count * 3)
        var rows: [String] = []
        for change in latest.values.sorted(by: { $0.driverID.rawValue < $1.driverID.rawValue }) {
            let base = bindings.count
            rows.append("($\(base + 1), $\(base + 2), $\(base + 3))")
            bindings.append(change.driverID.rawValue)
            bindings.append(change.status.rawValue)
            bindings.append(change.at)
        }
        return PostgresQuery(
            unsafeSQL: """
                INSERT INTO driver_states (driver_id, status, changed_at) VALUES \(rows.joined(separator: ", "))
                ON CONFLICT (driver_id) DO UPDATE SET status = EXCLUDED.status, changed_at = EXCLUDED.changed_at
                """,
            binds: bindings
        )
    }

    /// The drivers stored as `offline`, most recent first, at most `limit`.
    static func offline(limit: Int) -> PostgresQuery {
        var bindings = PostgresBindings()
        bindings.append(Int32(clamping: limit))
        return PostgresQuery(
            unsafeSQL: "SELECT driver_id FROM driver_states WHERE status = 'offline' ORDER BY changed_at DESC LIMIT $1",
            binds: bindings
        )
    }
}
