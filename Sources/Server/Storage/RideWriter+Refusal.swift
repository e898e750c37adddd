import CoreMetrics
import DispatchCore
import Foundation
import Logging
import PostgresNIO
import Synchronization

// What happens when the database will not take a batch: a refusal for its content (split, then
// dead-letter the one entry refused alone) or a newer leadership epoch (deposed: drop the queue, step down).
extension RideWriter {
    /// The database's refusal of a batch for its content, if that is why the write failed: SQLSTATE
    /// class 22 (data exception) or 23 (integrity constraint), directly or inside the transaction
    /// (postgres-nio wraps what the transaction's statements or its commit threw). Anything else,
    /// the SQL or privileges included (class 42: the schema, not the entry), is unavailability, and
    /// the batch is retried as it was.
    static func refusal(in error: any Error) -> PSQLError? {
        switch error {
        case let error as PSQLError:
            guard let state = error.serverInfo?[.sqlState], ["22", "23"].contains(String(state.prefix(2))) else {
                return nil
            }
            return error
        case let error as PostgresTransactionError:
            return [error.closureError, error.commitError].lazy.compactMap { $0.flatMap(refusal(in:)) }.first
        default:
            return nil
        }
    }

    /// A refusal's SQLSTATE, constraint and message, for the dead letter.
    static func describe(_ error: PSQLError) -> String {
        let info = error.serverInfo
        return [
            info?[.sqlState].map { "SQLSTATE \($0)" }, info?[.constraintName].map { "constraint \($0)" },
            info?[.message],
        ]
        .compactMap { $0 }.joined(separator: ", ")
    }

    /// The database refused a batch for its content: split it, or dead-letter the entry refused alone.
    func refuse(_ batch: Log.Batch, error: PSQLError) async {
        let (outcome, withdrawn) = state.withLock {
            state -> (Log.Refusal, [RideID]) in
            let outcome = state.log.refused(batch)
            guard case .deadLettered(let entry, _) = outcome else { return (outcome, []) }
            // A ride whose creation is not stored does not exist: nothing more of it is written.
            let created = entry.events.filter { $0.kind == .rideRequested }.map(\.rideID)
            state.log.withdraw(rides: Set(created))
            return (outcome, created)
        }
        guard case .deadLettered(let entry, let failing) = outcome else {
            logger.warning(
                "the database refused a batch; splitting it to find the entry",
                metadata: ["batch.entries": "\(batch.entries.count)", "error": "\(String(reflecting: error))"]
            )
            return
        }
        metrics.deadLetters.increment()
        let reason = Self.describe(error)
        logger.error(
            "the database refused an entry for good: dead-lettered, the queue goes on",
            metadata: [
                "position": "\(entry.position)",
                "rides": "\(entry.rides.map(\.id.rawValue))",
                "error": "\(reason)",
            ]
        )
        do {
            let fence = Fence(region: region, epoch: leadership.fenceEpoch)
            try await withDeadline(settings.statementTimeout) { [client, logger] in
                _ = try await client.query(
                    DeadLetters.insert(
                        position: entry.position,
                        events: entry.events,
                        rides: entry.rides,
                        error: reason,
                        fence: fence
                    ),
                    logger: logger
                )
            }
        } catch  where Fencing.isDeposed(error) {
            // Deposed meanwhile: nothing more of this replica's is stored, this entry included.
            for waiter in failing { waiter.continuation.resume(throwing: CommandNotDurable.notLeader) }
            fenced(error)
            return
        } catch {
            logger.error(
                "the dead letter could not be stored; its events are in this log line only",
                metadata: [
                    "events": "\(entry.events.map(RideEventPayload.json))", "error": "\(String(reflecting: error))",
                ]
            )
        }
        // ...nor dispatched, whether or not its creator still waits for the answer.
        if !withdrawn.isEmpty { refusedRidesObserver.withLock { $0 }?(withdrawn) }
        let refusal = CommandNotDurable.refused(constraint: error.serverInfo?[.constraintName], reason: reason)
        for waiter in failing { waiter.continuation.resume(throwing: refusal) }
    }

    /// A newer epoch refused the batch: this replica no longer leads. Its queue is dropped, every waiting
    /// command is told `notLeader` (it was not made durable, and never will be by this replica), and
    /// the election is told, to step down.
    func fenced(_ error: any Error) {
        let (dropped, notCommitted, unknown) = state.withLock { state in
            let outcome = state.log.fenced()
            waitingCount.store(0, ordering: .relaxed)
            metrics.queueDepth.record(0)
            return outcome
        }
        metrics.fencedBatches.increment()
        leadership.depose()
        logger.critical(
            "deposed: a newer leadership epoch refused our commit; committing nothing more and stepping down",
            metadata: [
                "leadership.region": "\(region)", "events.dropped": "\(dropped)",
                "commands.failed": "\(notCommitted.count + unknown.count)", "error": "\(Fencing.describe(error))",
            ]
        )
        for waiter in notCommitted { waiter.continuation.resume(throwing: CommandNotDurable.notLeader) }
        // Sent before, in a write whose outcome was lost: it may be stored. Not "nothing applied".
        for waiter in unknown { waiter.continuation.resume(throwing: CommandNotDurable.late) }
        deposedObserver.withLock { $0 }?()
    }
}
