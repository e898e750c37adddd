import CoreMetrics
import DequeModule
import DispatchCore
import Foundation
import Hummingbird
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Writes rides and their events to PostgreSQL with group commit, off the dispatcher's path.
///
/// As the dispatcher's event sink, `publish` only appends a batch to a queue and returns its position
/// (under the dispatcher's lock, so the queue is in event order). The writer loop commits everything
/// queued in one transaction, then the next: while one transaction is in flight, new batches gather,
/// so the number of transactions grows slower than the load. Commands wait for their position to be
/// committed (`waitUntilDurable`) before answering; events the service makes by itself (offers,
/// expiries, widening) are simply written behind. Retried batches are harmless: event inserts skip
/// stored events, and a ride row only moves to a later sequence.
///
/// It is also the outbox: each committed batch is handed, in commit order, to `outbox` (the event
/// hub) before the commands waiting on it resume, so streams, reads and offer polls only ever show
/// what is durable, and a client answered `201` finds its ride's events already there.
///
/// While PostgreSQL is unreachable, `isAvailable` is false (commands are refused with 503, readiness
/// fails), queued batches stay queued, and the loop retries with back-off until the database returns.
final class RideWriter: DispatchEventSink, CommandBacklog, Service {
    struct Settings: Sendable {
        /// The most events one transaction writes.
        var maximumBatchEvents = 5_000
        /// Above this many queued events the writer reports itself unavailable, so new commands are
        /// refused until it catches up (back-pressure instead of unbounded memory).
        var queueCapacity = 100_000
        /// How long a command waits for its commit before answering 503 (`COMMAND_DEADLINE_MS`).
        var commitTimeout: Duration = .seconds(2)
        /// The longest a transaction or a health check may take before it counts as failed.
        var statementTimeout: Duration = .seconds(5)
        /// False: one transaction per command's batch, for comparison (`STORE_GROUP_COMMIT=false`).
        var groupCommit = true
    }

    private struct Waiter {
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var log: GroupCommit<Waiter, ContinuousClock.Instant>
        var healthy = false
        var lastSuccess: ContinuousClock.Instant?
    }

    private let state: Mutex<State>
    /// Told when the database becomes reachable or unreachable (`onHealthChange`).
    private let healthObserver = Mutex<(@Sendable (Bool) -> Void)?>(nil)
    private let client: PostgresClient
    /// Whose epoch every transaction proves current (`Fencing`).
    private let leadership: Leadership
    private let region: String
    /// Told once a newer epoch refused a batch (`onDeposed`).
    private let deposedObserver = Mutex<(@Sendable () -> Void)?>(nil)
    private let fencedBatches = Counter(label: "dispatch_store_fenced_total")
    /// Where committed batches go: what clients may see.
    private let outbox: any DispatchEventSink
    private let settings: Settings
    private let logger: Logger
    private let signal: AsyncStream<Void>.Continuation
    private let signals: AsyncStream<Void>
    private let clock = ContinuousClock()

    private let queueDepth = Gauge(label: "dispatch_store_queue_events")
    private let batchEvents = Recorder(label: "dispatch_store_batch_events", aggregate: true)
    private let commitDuration = Timer(label: "dispatch_store_commit_seconds", preferredDisplayUnit: .seconds)
    /// The last minute's commit durations in seconds, for the operators' console.
    let recentCommits = RecentSamples()
    private let errors = Counter(label: "dispatch_store_errors_total")
    private let deadLetters = Counter(label: "dispatch_store_dead_letters_total")
    /// What durable-before-visible costs: from an entry's events being made to their being shown,
    /// for entries with an offer (what a driver waits for) and for the rest (riders' updates).
    private let offerDelay = Timer(
        label: "dispatch_outbox_delay_seconds",
        dimensions: [("path", "offer")],
        preferredDisplayUnit: .seconds
    )
    private let updateDelay = Timer(
        label: "dispatch_outbox_delay_seconds",
        dimensions: [("path", "update")],
        preferredDisplayUnit: .seconds
    )
    private let available = Gauge(label: "dispatch_store_available")
    private let commitWait = Timer(label: "dispatch_command_commit_wait_seconds", preferredDisplayUnit: .seconds)
    private let waiting = Gauge(label: "dispatch_commands_waiting")
    private let oldestWaitGauge = Gauge(label: "dispatch_commands_oldest_wait_seconds")
    private let waitingCount = Atomic<Int>(0)
    private let shuttingDown = Atomic<Bool>(false)
    /// Told which rides' creation was dead-lettered (`onRefusedRides`).
    private let refusedRidesObserver = Mutex<(@Sendable ([RideID]) -> Void)?>(nil)
    private let oldestWaitNanoseconds = Atomic<Int64>(0)

    /// - Parameters:
    ///   - client: The writer's pool.
    ///   - settings: Batching, capacity and deadlines.
    ///   - outbox: Where committed batches go (the event hub).
    ///   - leadership: Whose epoch fences the writes, in `region`.
    ///   - logger: The writer's logger.
    init(
        client: PostgresClient,
        settings: Settings = Settings(),
        outbox: any DispatchEventSink,
        leadership: Leadership,
        region: String,
        logger: Logger
    ) {
        self.client = client
        self.leadership = leadership
        self.region = region
        self.outbox = outbox
        self.state = Mutex(
            State(log: GroupCommit(maximumBatchEvents: settings.maximumBatchEvents, groupCommit: settings.groupCommit))
        )
        self.settings = settings
        self.logger = logger
        (signals, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    // MARK: Sink

    func publish(_ batch: EventBatch) -> PublishReceipt? {
        let now = clock.now
        let position = state.withLock {
            $0.log.enqueue(events: batch.events, rides: batch.rides, driverStatuses: batch.driverStatuses, at: now)
        }
        signal.yield()
        return PublishReceipt(position: position)
    }

    // MARK: Commands

    /// Whether commands may run now: the database answered recently and the queue is not overfull.
    var isAvailable: Bool {
        state.withLock { $0.healthy && $0.log.queuedEvents < settings.queueCapacity }
    }

    /// Throws `CommandNotDurable.notLeader` unless this replica leads its region, and
    /// `CommandNotDurable.unavailable` unless commands may run now.
    func checkAvailable() throws {
        guard leadership.isLeader else { throw CommandNotDurable.notLeader }
        guard isAvailable else { throw CommandNotDurable.unavailable }
    }

    /// Events queued for the database and not yet committed (`dispatch_store_queue_events`).
    var queuedEvents: Int { state.withLock { $0.log.queuedEvents } }

    /// Commands waiting for their commit now (admission control's signal).
    var waitingCommands: Int { waitingCount.load(ordering: .relaxed) }

    /// How long the oldest waiting command has waited, as of the last check (every 100 ms).
    var oldestCommandWait: Duration { .nanoseconds(oldestWaitNanoseconds.load(ordering: .relaxed)) }

    /// The receipt of the newest batch taken so far: once it is committed, so is every batch before it.
    var newestReceipt: PublishReceipt? {
        state.withLock { $0.log.newestPosition > 0 ? PublishReceipt(position: $0.log.newestPosition) : nil }
    }

    /// Waits until the batch with this receipt is committed.
    /// - Throws: `CommandNotDurable.late` after `commitTimeout`: the command was applied in memory but
    ///   its durability is unknown; the client should re-read the ride or retry with its idempotency
    ///   key. `CommandNotDurable.refused` when the database refused the command's events for good.
    func waitUntilDurable(_ receipt: PublishReceipt?) async throws {
        guard let receipt else { return }
        let since = clock.now
        defer { commitWait.record(duration: clock.now - since) }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let outcome = state.withLock { state in
                let outcome = state.log.wait(
                    for: receipt.position,
                    until: since + settings.commitTimeout,
                    Waiter(continuation: continuation)
                )
                waitingCount.store(state.log.waiterCount, ordering: .relaxed)
                return outcome
            }
            switch outcome {
            case .waiting: break
            case .committed: continuation.resume()
            case .deadLettered:
                continuation.resume(throwing: CommandNotDurable.refused(constraint: nil, reason: "dead-lettered"))
            case .fenced:
                continuation.resume(throwing: CommandNotDurable.notLeader)
            }
        }
    }

    // MARK: Service

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.expireWaiters() }
            group.addTask { await self.checkHealth() }
            await withGracefulShutdownHandler {
                await self.writeLoop()
            } onGracefulShutdown: {
                self.shuttingDown.store(true, ordering: .relaxed)
                self.signal.finish()
            }
            group.cancelAll()
        }
        // Anyone still waiting gets an answer.
        let remaining = state.withLock { $0.log.removeAllWaiters() }
        for waiter in remaining { waiter.continuation.resume(throwing: CommandNotDurable.late) }
    }

    /// Commits queued batches, all that are queued at once, until shutdown; then flushes what is left
    /// (for up to `statementTimeout` while the database is reachable).
    private func writeLoop() async {
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
    private func write(_ batch: GroupCommit<Waiter, ContinuousClock.Instant>.Batch) async -> Bool {
        let started = clock.now
        do {
            try await commit(batch.entries)
        } catch {
            errors.increment()
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
        commitDuration.record(duration: visible - started)
        recentCommits.record(
            Double((visible - started).components.attoseconds) / 1e18 + Double((visible - started).components.seconds)
        )
        batchEvents.record(batch.eventCount)
        for entry in batch.entries {
            _ = outbox.publish(
                EventBatch(events: entry.events, rides: entry.rides, driverStatuses: entry.driverStatuses)
            )
            if let enqueued = entry.enqueuedAt, !entry.events.isEmpty {
                let timer = entry.events.contains { $0.kind == .rideOffered } ? offerDelay : updateDelay
                timer.record(duration: visible - enqueued)
            }
        }
        let resumed = state.withLock { state -> [Waiter] in
            let resumed = state.log.committed(batch)
            state.lastSuccess = clock.now
            waitingCount.store(state.log.waiterCount, ordering: .relaxed)
            queueDepth.record(state.log.queuedEvents)
            return resumed
        }
        // Through `markHealthy`, so that a commit that succeeds before the health check does still
        // resumes dispatch.
        markHealthy(true)
        for waiter in resumed { waiter.continuation.resume() }
        return true
    }

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

    /// A newer epoch refused the batch: this replica no longer leads. Its queue is dropped, every waiting
    /// command is told `notLeader` (it was not made durable, and never will be by this replica), and
    /// the election is told, to step down.
    private func fenced(_ error: any Error) {
        let (dropped, notCommitted, unknown) = state.withLock { state in
            let outcome = state.log.fenced()
            waitingCount.store(0, ordering: .relaxed)
            queueDepth.record(0)
            return outcome
        }
        fencedBatches.increment()
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

    /// Calls `observer` once a newer epoch has refused this replica's commit (the election steps down).
    func onDeposed(_ observer: @escaping @Sendable () -> Void) {
        deposedObserver.withLock { $0 = observer }
    }

    /// The database refused a batch for its content: split it, or dead-letter the entry refused alone.
    private func refuse(_ batch: GroupCommit<Waiter, ContinuousClock.Instant>.Batch, error: PSQLError) async {
        let (outcome, withdrawn) = state.withLock {
            state -> (GroupCommit<Waiter, ContinuousClock.Instant>.Refusal, [RideID]) in
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
        deadLetters.increment()
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

    /// A refusal's SQLSTATE, constraint and message, for the dead letter.
    static func describe(_ error: PSQLError) -> String {
        let info = error.serverInfo
        return [
            info?[.sqlState].map { "SQLSTATE \($0)" }, info?[.constraintName].map { "constraint \($0)" },
            info?[.message],
        ]
        .compactMap { $0 }.joined(separator: ", ")
    }

    /// Writes entries in one transaction (one statement when the batch fits in one, see
    /// `RideRows.write`).
    private func commit(_ entries: [GroupCommit<Waiter, ContinuousClock.Instant>.Entry]) async throws {
        var latest: [RideID: Ride] = [:]
        for entry in entries {
            for ride in entry.rides { latest[ride.id] = ride }
        }
        let rides = Array(latest.values)
        let events = entries.flatMap(\.events)
        let statuses = entries.flatMap(\.driverStatuses)
        let fence = Fence(region: region, epoch: leadership.fenceEpoch)
        try await withDeadline(settings.statementTimeout) { [client, logger] in
            if statuses.isEmpty, let single = RideRows.write(rides: rides, events: events, fence: fence) {
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
                if let upsert = DriverStates.upsert(statuses) {
                    try await connection.query(upsert, logger: logger)
                }
            }
        }
    }

    /// Fails waiters whose commit did not come in time.
    private func expireWaiters() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(100))
            let now = clock.now
            let expired = state.withLock { state -> [Waiter] in
                let late = state.log.expire(now: now)
                waitingCount.store(state.log.waiterCount, ordering: .relaxed)
                // Every waiter waits `commitTimeout`: the earliest deadline is the oldest waiter's.
                let oldest = state.log.earliestDeadline.map { now - ($0 - settings.commitTimeout) } ?? .zero
                oldestWaitNanoseconds.store(Int64(oldest.timeInterval * 1e9), ordering: .relaxed)
                queueDepth.record(state.log.queuedEvents)
                waiting.record(state.log.waiterCount)
                oldestWaitGauge.record(oldest.timeInterval)
                return late
            }
            for waiter in expired { waiter.continuation.resume(throwing: CommandNotDurable.late) }
        }
    }

    /// While idle, asks the database `SELECT 1` every second, so readiness follows it.
    private func checkHealth() async {
        while !Task.isCancelled {
            let recent = state.withLock { state in state.lastSuccess.map { clock.now - $0 < .seconds(1) } ?? false }
            if !recent {
                let ok: Bool
                do {
                    try await withDeadline(.seconds(2)) { [client] in _ = try await client.query("SELECT 1") }
                    ok = true
                } catch {
                    ok = false
                }
                markHealthy(ok)
                if ok { state.withLock { $0.lastSuccess = clock.now } }
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Calls `observer` with the rides whose creation the database refused for good (dead-lettered),
    /// for the dispatcher to forget them.
    func onRefusedRides(_ observer: @escaping @Sendable ([RideID]) -> Void) {
        refusedRidesObserver.withLock { $0 = observer }
    }

    /// Calls `observer` each time the database becomes reachable (true) or unreachable (false).
    func onHealthChange(_ observer: @escaping @Sendable (Bool) -> Void) {
        healthObserver.withLock { $0 = observer }
    }

    /// Records whether the database answers (the start-up sequence marks it after migrations).
    func markHealthy(_ healthy: Bool) {
        let changed = state.withLock { state in
            defer { state.healthy = healthy }
            return state.healthy != healthy
        }
        available.record(healthy ? 1 : 0)
        if changed {
            healthObserver.withLock { $0 }?(healthy)
            if healthy {
                logger.info("database reachable")
            } else {
                logger.error("database unreachable: refusing commands, queueing written-behind events")
            }
        }
    }
}
