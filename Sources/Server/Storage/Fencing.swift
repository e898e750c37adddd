import Logging
import PostgresNIO

/// A leadership term as the writer proves it: the region and the epoch this replica leads with.
struct Fence: Sendable, Equatable {
    let region: String
    let epoch: Int64
}

/// Fencing tokens in PostgreSQL: every write transaction of the group commit first calls
/// `dispatch_fence(region, epoch)` (migration 5), which reads the region's leadership row `FOR SHARE`
/// and raises `sqlState` unless the epoch is the current one. A new leader's epoch bump waits for the
/// shared locks of transactions in flight, so once it commits, a deposed leader (paused, partitioned,
/// slow) cannot commit anything: not even a transaction it had begun.
enum Fencing {
    /// The SQL function of migration 5.
    static let function = "dispatch_fence"
    /// The SQLSTATE `dispatch_fence` raises (a class of our own, so nothing else means it).
    static let sqlState = "DP001"

    /// The statement that opens a fenced transaction.
    static func check(_ fence: Fence) -> PostgresQuery {
        "SELECT dispatch_fence(\(fence.region), \(fence.epoch))"
    }

    /// Runs `check` and reads its answer: the function raises while the row is produced, so its error
    /// arrives with the rows, not with the query's start (unread, it would surface only as the next
    /// statement's "current transaction is aborted").
    static func prove(_ fence: Fence, on connection: PostgresConnection, logger: Logger) async throws {
        for try await _ in try await connection.query(check(fence), logger: logger) {}
    }

    /// Whether a write failed because its epoch is no longer current, directly or inside a
    /// transaction (postgres-nio wraps what the statements or the commit threw).
    static func isDeposed(_ error: any Error) -> Bool {
        switch error {
        case let error as PSQLError:
            return error.serverInfo?[.sqlState] == sqlState
        case let error as PostgresTransactionError:
            return [error.closureError, error.commitError].contains { $0.map(isDeposed) ?? false }
        default:
            return false
        }
    }

    /// The database's message for a fenced write (not the statement, which can be thousands of binds).
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as PSQLError:
            return error.serverInfo?[.message] ?? "\(error.code)"
        case let error as PostgresTransactionError:
            return [error.closureError, error.commitError].compactMap { $0.map(describe) }.first ?? "\(error)"
        default:
            return "\(error)"
        }
    }
}
