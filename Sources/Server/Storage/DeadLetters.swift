import DispatchCore
import PostgresNIO

/// The `dead_letters` table: what the group commit could not store because the database refused it
/// for its content (see `GroupCommit`), kept with the error for an operator to repair by hand. The
/// alert `DispatchDeadLetters` fires on each.
enum DeadLetters {
    /// The statement that records one refused entry: its events in their wire encoding. Fenced like
    /// every write (`Fencing`): a deposed leader stores no dead letter either.
    static func insert(
        position: UInt64,
        events: [RideEvent],
        rides: [Ride],
        error: String,
        fence: Fence
    ) -> PostgresQuery {
        var bindings = PostgresBindings()
        bindings.append(Int64(clamping: position))
        bindings.append(rides.map(\.id.rawValue))
        bindings.append("[" + events.map(RideEventPayload.json).joined(separator: ",") + "]")
        bindings.append(error)
        bindings.append(fence.region)
        bindings.append(fence.epoch)
        return PostgresQuery(
            unsafeSQL: """
                INSERT INTO dead_letters (position, ride_ids, events, error)
                SELECT $1, $2, $3::jsonb, $4 WHERE \(Fencing.function)($5, $6) IS NOT NULL
                """,
            binds: bindings
        )
    }
}
