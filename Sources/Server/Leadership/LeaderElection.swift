import CoreMetrics
import DispatchCore
import Logging
import Metrics
import NIOCore
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Elects one leader per region through PostgreSQL, and keeps it.
///
/// Each replica holds a session of its own (`DatabaseConfiguration.leadershipConnection`). A standby
/// tries `pg_try_advisory_lock` on the region's key every `pollInterval`, and meanwhile reads where
/// the leader is (the edge forwards connections there). The replica that gets the lock starts a term:
/// it bumps the region's epoch in the `leadership` row (waiting for every transaction still fenced by
/// the old epoch), restores the region from PostgreSQL (`takeOver`), and only then leads. A leader
/// rereads the epoch every `renewInterval`; that query is also what keeps its session from going
/// idle, and PostgreSQL ends a session idle for a lease, so a paused or cut-off leader loses the lock
/// within a lease without anyone's help.
///
/// The lock elects; the epoch fences (`Fencing`): a leader that lost its session keeps committing
/// only while nobody has started a newer term, and learns it was deposed from its next commit or its
/// next look at the row. Deposed, it stops the process at once (`stepDown`, exit status 75): its
/// state is a dead term's, it holds nothing acknowledged that is not stored, and its clients reach the
/// new leader sooner through a closed connection than through a drain. A restart comes back as a
/// standby. At graceful shutdown, which runs after the
/// writer has flushed (services stop in reverse order), a leader unlocks: the standby's next try
/// takes over at once.
struct LeaderElection: Service {
    let database: DatabaseConfiguration
    let leadership: Leadership
    let configuration: LeadershipConfiguration
    /// Where the other replicas reach this one.
    let address: String
    /// Opened once the migrations are applied (the `leadership` table is migration 5's).
    let schema: Latch
    /// Set once this replica knows its part: it leads (the region restored), or it knows who does.
    let roleKnown: Latch
    /// Restores the region for a new term (rides, their timers, offline drivers) before it leads.
    let takeOver: @Sendable (_ epoch: Int64) async throws -> Void
    /// Ends the process once deposed (tests stop the service instead, from the thrown error).
    let stepDown: @Sendable () -> Void
    let logger: Logger

    /// The exit status of a replica that stopped because it was deposed (EX_TEMPFAIL).
    static let deposedExitStatus: Int32 = 75

    private let failovers = Counter(label: "dispatch_failovers_total")
    private let takeoverDuration = Timer(label: "dispatch_takeover_seconds", preferredDisplayUnit: .seconds)

    /// A newer epoch exists: this replica's term is over.
    struct LeadershipLost: Error, CustomStringConvertible {
        /// The epoch this replica led with, when known.
        let epoch: Int64?
        let current: Int64?

        var description: String {
            "deposed: the region's epoch is now \(current.map(String.init) ?? "unknown")"
                + (epoch.map { ", this replica led with \($0)" } ?? "")
        }
    }

    func run() async throws {
        let stopping = Latch()
        let connection = try database.leadershipConnection(lease: configuration.lease)
        try await withGracefulShutdownHandler {
            while !schema.isSet, !stopping.isSet { try await Task.sleep(for: .milliseconds(20)) }
            var attempt = 0
            var failures = 0
            while !stopping.isSet {
                // Cancelled (another service failed at start-up): stop, do not spin.
                try Task.checkCancellation()
                attempt += 1
                do {
                    // Within a lease, handshake included (a cut-off network accepts and never answers).
                    let session = try await withDeadline(configuration.lease) { [attempt, logger] in
                        try await PostgresConnection.connect(configuration: connection, id: attempt, logger: logger)
                    }
                    failures = 0
                    // Closed in the background: on a cut-off network a close can wait as long as a query.
                    defer { Task { [session] in try? await session.close() } }
                    try await serve(on: session, stopping: stopping)
                } catch let lost as LeadershipLost {
                    leadership.depose()
                    logger.critical("\(lost); stopping (a restart comes back as a standby)")
                    stepDown()
                    throw lost
                } catch {
                    failures += 1
                    // The first failure of a run is news; the retries of an outage, every poll, are not.
                    let level: Logger.Level = failures == 1 ? .error : .debug
                    if case .leader(let epoch) = leadership.role {
                        logger.log(
                            level: level,
                            "the leadership session was lost; leading on while no newer term exists (the fence decides)",
                            metadata: ["leadership.epoch": "\(epoch)", "error": "\(String(reflecting: error))"]
                        )
                    } else {
                        logger.log(
                            level: failures == 1 ? .warning : .debug,
                            "the leadership session failed; retrying",
                            metadata: ["error": "\(String(reflecting: error))"]
                        )
                    }
                    try await Task.sleep(for: configuration.pollInterval)
                }
            }
        } onGracefulShutdown: {
            stopping.set()
        }
    }

    /// Campaigns on one session, then leads on it until shutdown or until it fails.
    private func serve(on session: PostgresConnection, stopping: Latch) async throws {
        // Every statement within half a lease, even on a network that drops everything.
        let table = LeadershipTable(region: configuration.region, deadline: configuration.lease / 2, logger: logger)
        // Standby: try for the lock; meanwhile follow where the leader is.
        while !stopping.isSet {
            let acquired = try await table.tryLock(on: session)
            let term = try await table.current(on: session)
            switch leadership.role {
            case .deposed:
                // The writer was fenced meanwhile: this replica's state is a dead term's.
                throw LeadershipLost(epoch: nil, current: term?.epoch)
            case .leader(let epoch) where term != nil && term?.epoch != epoch:
                throw LeadershipLost(epoch: epoch, current: term?.epoch)
            case .leader, .standby:
                break
            }
            if acquired { break }
            leadership.observe(leaderAddress: term?.address)
            if term != nil { roleKnown.set() }
            try await Task.sleep(for: configuration.pollInterval)
        }
        guard !stopping.isSet else { return }
        let epoch: Int64
        if case .leader(let leading) = leadership.role {
            // The lock again after a lost session: still ours only if no term began meanwhile.
            let term = try await table.current(on: session)
            guard term?.epoch == leading else { throw LeadershipLost(epoch: leading, current: term?.epoch) }
            epoch = leading
            logger.notice(
                "leadership session restored; no newer term began",
                metadata: ["leadership.epoch": "\(epoch)"]
            )
        } else {
            epoch = try await begin(on: session, table: table)
        }
        // Leading: prove the epoch current every renewInterval (which also keeps the session alive).
        while !stopping.isSet {
            try await Task.sleep(for: configuration.renewInterval)
            guard leadership.role == .leader(epoch: epoch) else {
                throw LeadershipLost(epoch: epoch, current: nil)
            }
            let term = try await table.current(on: session)
            guard term?.epoch == epoch else { throw LeadershipLost(epoch: epoch, current: term?.epoch) }
            logger.trace("leadership renewed", metadata: ["leadership.epoch": "\(epoch)"])
        }
        // Shutdown, after the writer's flush: hand over.
        leadership.depose()
        try await table.unlock(on: session)
        logger.notice("leadership handed over at shutdown", metadata: ["leadership.epoch": "\(epoch)"])
    }

    /// Starts a term: bumps the epoch, restores the region, then leads.
    private func begin(on session: PostgresConnection, table: LeadershipTable) async throws -> Int64 {
        let started = ContinuousClock.now
        logger.notice(
            "took the region's lock; beginning a term",
            metadata: ["leadership.region": "\(configuration.region)"]
        )
        // A bump that fails changed nothing: the session's close releases the lock for another try.
        let epoch = try await table.bump(on: session, holder: configuration.identity, address: address)
        leadership.beginTerm(epoch: epoch)
        do {
            try await takeOver(epoch)
        } catch {
            // Half restored (rides and their timers in memory, their events queued): not a state to
            // try again from. Stop; a restart comes back as a standby, and the other replica may lead.
            logger.error("the term could not begin", metadata: ["error": "\(Fencing.describe(error))"])
            throw LeadershipLost(epoch: epoch, current: nil)
        }
        leadership.lead(epoch: epoch)
        roleKnown.set()
        let took = ContinuousClock.now - started
        takeoverDuration.record(duration: took)
        if epoch > 1 { failovers.increment() }
        logger.notice(
            "leading the region",
            metadata: [
                "leadership.region": "\(configuration.region)", "leadership.epoch": "\(epoch)",
                "leadership.holder": "\(configuration.identity)", "takeover.seconds": "\(took.timeInterval)",
            ]
        )
        return epoch
    }
}
