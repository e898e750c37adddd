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
///
/// Its parts: this file (the queue, commands and observers), `RideWriter+Commit.swift` (the commit
/// loop and outbox), `RideWriter+Refusal.swift` (dead letters and fencing), `RideWriter+Health.swift`
/// (database health) and `StoreMetrics.swift`.
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

    typealias Log = GroupCommit<Waiter, ContinuousClock.Instant>

    struct Waiter {
        let continuation: CheckedContinuation<Void, any Error>
    }

    struct State {
        var log: Log
        var healthy = false
        var lastSuccess: ContinuousClock.Instant?
    }

    let state: Mutex<State>
    /// Told when the database becomes reachable or unreachable (`onHealthChange`).
    let healthObserver = Mutex<(@Sendable (Bool) -> Void)?>(nil)
    let client: PostgresClient
    /// Whose epoch every transaction proves current (`Fencing`).
    let leadership: Leadership
    let region: String
    /// Told once a newer epoch refused a batch (`onDeposed`).
    let deposedObserver = Mutex<(@Sendable () -> Void)?>(nil)
    /// Where committed batches go: what clients may see.
    let outbox: any DispatchEventSink
    let settings: Settings
    let logger: Logger
    let signal: AsyncStream<Void>.Continuation
    let signals: AsyncStream<Void>
    let clock = ContinuousClock()
    let metrics = StoreMetrics()

    /// The last minute's commit durations in seconds, for the operators' console.
    let recentCommits = RecentSamples()
    let waitingCount = Atomic<Int>(0)
    let shuttingDown = Atomic<Bool>(false)
    /// Told which rides' creation was dead-lettered (`onRefusedRides`).
    let refusedRidesObserver = Mutex<(@Sendable ([RideID]) -> Void)?>(nil)
    let oldestWaitNanoseconds = Atomic<Int64>(0)

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
        defer { metrics.commitWait.record(duration: clock.now - since) }
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

    // MARK: Observers

    /// Calls `observer` once a newer epoch has refused this replica's commit (the election steps down).
    func onDeposed(_ observer: @escaping @Sendable () -> Void) {
        deposedObserver.withLock { $0 = observer }
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
}
