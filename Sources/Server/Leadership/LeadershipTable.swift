import Logging
import PostgresNIO

/// The region's leadership in PostgreSQL: its advisory lock (keyed by the region's name) and its row
/// in `leadership` (migration 5): the current epoch, who holds it and where it is reached.
struct LeadershipTable: Sendable {
    let region: String
    /// The longest a statement may take before the session counts as lost (not waiting for a query
    /// the network left hanging: `withDeadline`).
    let deadline: Duration
    let logger: Logger

    /// The region's current term.
    struct Term: Sendable, Equatable {
        let epoch: Int64
        let holder: String
        let address: String
    }

    /// Tries for the region's lock on this session, without waiting.
    func tryLock(on session: PostgresConnection) async throws -> Bool {
        try await withDeadline(deadline) { [region, logger] in
            let rows = try await session.query(
                "SELECT pg_try_advisory_lock(hashtextextended(\(region), 0))",
                logger: logger
            )
            for try await (acquired, ) in rows.decode((Bool,).self) { return acquired }
            return false
        }
    }

    /// Releases the region's lock held by this session.
    func unlock(on session: PostgresConnection) async throws {
        try await withDeadline(deadline) { [region, logger] in
            let rows = try await session.query(
                "SELECT pg_advisory_unlock(hashtextextended(\(region), 0))",
                logger: logger
            )
            for try await _ in rows {}
        }
    }

    /// The region's current term; nil before its first.
    func current(on session: PostgresConnection) async throws -> Term? {
        try await withDeadline(deadline) { [region, logger] in
            let rows = try await session.query(
                "SELECT epoch, holder, address FROM leadership WHERE region = \(region)",
                logger: logger
            )
            for try await (epoch, holder, address) in rows.decode((Int64, String, String).self) {
                return Term(epoch: epoch, holder: holder, address: address)
            }
            return nil
        }
    }

    /// Begins the next term (call with the lock held): the epoch goes up by one. The update waits
    /// for the shared locks of transactions still fenced by the previous epoch (`Fencing`), so once
    /// it returns, none of those can commit.
    /// - Returns: The new epoch.
    func bump(on session: PostgresConnection, holder: String, address: String) async throws -> Int64 {
        // Twice the deadline: it may wait for the old term's transactions, which PostgreSQL bounds
        // (idle_in_transaction_session_timeout on the writers' sessions, lock_timeout on this one).
        try await withDeadline(deadline * 2) { [region, logger] in
            let rows = try await session.query(
                """
                INSERT INTO leadership (region, epoch, holder, address) VALUES (\(region), 1, \(holder), \(address))
                ON CONFLICT (region) DO UPDATE
                SET epoch = leadership.epoch + 1, holder = EXCLUDED.holder, address = EXCLUDED.address, since = now()
                RETURNING epoch
                """,
                logger: logger
            )
            for try await (epoch, ) in rows.decode((Int64,).self) { return epoch }
            throw LeadershipTableError(description: "the epoch bump returned no row")
        }
    }
}

/// The leadership row did not answer as it must.
struct LeadershipTableError: Error, CustomStringConvertible {
    let description: String
}
