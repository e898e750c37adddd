import CoreMetrics
import DispatchCore
import Foundation
import Logging
import Metrics
import PostgresNIO
import Synchronization

// The commit loop: take everything queued, write it in one transaction, publish it to the outbox, then
// answer the commands that waited on it.
extension RideWriter {
    /// Commits queued batches, all that are queued at once, until shutdown; then flushes what is left
    /// (for up to `statementTimeout` while the database is reachable).
    func writeLoop() async {
        var failures = 0
        for await _ in signals {
            // At shutdown the retries stop here: the flush below has its own deadline.
            while !Task.isCancelled, !shuttingDown.load(ordering: .relaxed),
                let batch = state.withLock({ $0.log.nextBatch() })
            {
                guard leadership.fenceEpoch > 0 else {
                    // Not leading (yet): nothing may be written; the batch waits for an epoch.
                    state.withLock { $0.log.unavailable(batch, attempted: false) }
                    try? await Task.sleep(for: .milliseconds(100))
                    continue
                }
                if await write(batch) {
                    failures = 0
                } else {
                    failures += 1
                    let backoff = Duration.milliseconds(min(2_000, 50 << min(failures, 6)))
                    try? await Task.sleep(for: backoff)
                }
            }
        }
        let deadline = clock.now + settings.statementTimeout
        while !Task.isCancelled, clock.now < deadline, let batch = state.withLock({ $0.log.nextBatch() }) {
            if !(await write(batch)) { try? await Task.sleep(for: .milliseconds(100)) }
        }
        let lost = state.withLock { $0.log.queuedEvents }
        if lost > 0 {
            logger.error(
                "shutting down with events not written (they were not acknowledged; recovery re-makes offers)",
                metadata: ["events.count": "\(lost)"]
            )
        }
    }

    /// Writes a batch and applies the outcome to the log.
    /// - Returns: False when the database was unavailable (the caller backs off).
    private func write(_ batch: Log.Batch) async -> Bool {
        let started = clock.now
        do {
            try await commit(batch.entries)
        } catch {
            metrics.errors.increment()
            if Fencing.isDeposed(error) {
                fenced(error)
                return true
            }
            guard let refusal = Self.refusal(in: error) else {
                state.withLock { $0.log.unavailable(batch) }
                markHealthy(false)
                logger.warning("writing rides failed; will retry", metadata: ["error": "\(String(reflecting: error))"])
                return false
            }
            await refuse(batch, error: refusal)
            return true
        }
        // Visible only now, and before anyone is answered.
        let visible = clock.now
        metrics.commitDuration.record(duration: visible - started)
        recentCommits.record(
            Double((visible - started).components.attoseconds) / 1e18 + Double((visible - started).components.seconds)
        )
        metrics.batchEvents.record(batch.eventCount)
        for entry in batch.entries {
            _ = outbox.publish(
                EventBatch(events: entry.events, rides: entry.rides, driverStatuses: entry.driverStatuses)
            )
            if let enqueued = entry.enqueuedAt, !entry.events.isEmpty {
                let timer = entry.events.contains { $0.kind == .rideOffered } ? metrics.offerDelay : metrics.updateDelay
                timer.record(duration: visible - enqueued)
            }
        }
        let resumed = state.withLock { state -> [Waiter] in
            let resumed = state.log.committed(batch)
            state.lastSuccess = clock.now
            waitingCount.store(state.log.waiterCount, ordering: .relaxed)
            metrics.queueDepth.record(state.log.queuedEvents)
            return resumed
        }
        // Through `markHealthy`, so that a commit that succeeds before the health check does still
        // resumes dispatch.
        markHealthy(true)
        for waiter in resumed { waiter.continuation.resume() }
        return true
    }

    /// Writes entries in one transaction (one statement when the batch fits in one, see
    /// `RideRows.write`).
    private func commit(_ entries: [Log.Entry]) async throws {
        var latest: [RideID: Ride] = [:]
        for entry in entries {
            for ride in entry.rides { latest[ride.id] = ride }
        }
        let rides = Array(latest.values)
        let events = entries.flatMap(\.events)
        let statuses = entries.flatMap(\.driverStatuses)
        let decisions = DecisionRows.rows(events: events, rides: latest)
        let fence = Fence(region: region, epoch: leadership.fenceEpoch)
        try await withDeadline(settings.statementTimeout) { [client, logger] in
            if statuses.isEmpty,
                let single = RideRows.write(rides: rides, events: events, decisions: decisions, fence: fence)
            {
                try await client.query(single, logger: logger)
                return
            }
            try await client.withTransaction(logger: logger) { connection in
                // First: the shared lock on the leadership row is held until the commit.
                try await Fencing.prove(fence, on: connection, logger: logger)
                for chunk in stride(from: 0, to: rides.count, by: 1_000) {
                    try await connection.query(
                        RideRows.upsert(Array(rides[chunk..<min(rides.count, chunk + 1_000)])),
                        logger: logger
                    )
                }
                for chunk in stride(from: 0, to: events.count, by: 5_000) {
                    try await connection.query(
                        RideRows.insert(Array(events[chunk..<min(events.count, chunk + 5_000)]), epoch: fence.epoch),
                        logger: logger
                    )
                }
                for chunk in stride(from: 0, to: decisions.count, by: 1_000) {
                    try await connection.query(
                        DecisionRows.insert(Array(decisions[chunk..<min(decisions.count, chunk + 1_000)])),
                        logger: logger
                    )
                }
                if let upsert = DriverStates.upsert(statuses) {
                    try await connection.query(upsert, logger: logger)
                }
            }
        }
    }

    /// Fails waiters whose commit did not come in time.
    func expireWaiters() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(100))
            let now = clock.now
            let expired = state.withLock { state -> [Waiter] in
                let late = state.log.expire(now: now)
                waitingCount.store(state.log.waiterCount, ordering: .relaxed)
                // Every waiter waits `commitTimeout`: the earliest deadline is the oldest waiter's.
                let oldest = state.log.earliestDeadline.map { now - ($0 - settings.commitTimeout) } ?? .zero
                oldestWaitNanoseconds.store(Int64(oldest.timeInterval * 1e9), ordering: .relaxed)
                metrics.queueDepth.record(state.log.queuedEvents)
                metrics.waiting.record(state.log.waiterCount)
                metrics.oldestWaitGauge.record(oldest.timeInterval)
                return late
            }
            for waiter in expired { waiter.continuation.resume(throwing: CommandNotDurable.late) }
        }
    }
}
