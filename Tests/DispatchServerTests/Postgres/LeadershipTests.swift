import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization
import Testing

@testable import DispatchServer

/// The election against a real PostgreSQL: two replicas' `LeaderElection`s on one database.
@Suite("Leader election through PostgreSQL: one leader per region, and epochs that fence", .serialized)
struct LeadershipTests {
    /// The epochs a replica's takeovers began.
    final class Takeovers: Sendable {
        private let epochs = Mutex<[Int64]>([])

        func append(_ epoch: Int64) { epochs.withLock { $0.append(epoch) } }

        var all: [Int64] { epochs.withLock { $0 } }
    }

    /// One replica's election, running in a service group of its own.
    struct Replica: Sendable {
        let leadership: Leadership
        let takeovers: Takeovers
        let steppedDown: Latch
        let group: ServiceGroup
        let run: Task<Result<Void, any Error>, Never>

        var takenOver: [Int64] { takeovers.all }

        func stop() async -> Result<Void, any Error> {
            await group.triggerGracefulShutdown()
            return await run.value
        }
    }

    static func start(_ name: String, port: Int, database: DatabaseConfiguration) -> Replica {
        let leadership = Leadership(ownAddress: "127.0.0.1:\(port)")
        let takeovers = Takeovers()
        let steppedDown = Latch()
        let schema = Latch()
        schema.set()
        var configuration = LeadershipConfiguration()
        configuration.region = "test-region"
        configuration.identity = name
        configuration.lease = .seconds(2)
        let election = LeaderElection(
            database: database,
            leadership: leadership,
            configuration: configuration,
            address: "127.0.0.1:\(port)",
            schema: schema,
            roleKnown: Latch(),
            takeOver: { epoch in takeovers.append(epoch) },
            stepDown: { steppedDown.set() },
            logger: TestDatabase.logger
        )
        let group = ServiceGroup(services: [election], logger: TestDatabase.logger)
        let run = Task { () -> Result<Void, any Error> in
            do {
                try await group.run()
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        let replica = Replica(
            leadership: leadership,
            takeovers: takeovers,
            steppedDown: steppedDown,
            group: group,
            run: run
        )
        return replica
    }

    /// Waits (up to 15 s: a liveness bound, not a timing) until `condition` holds.
    static func eventually(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<300 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }

    static func migrate(_ configuration: DatabaseConfiguration) async throws {
        try await TestDatabase.withClient(configuration) { client in
            _ = try await Migrations.apply(on: client, logger: TestDatabase.logger)
        }
    }

    @Test("one replica leads with epoch 1, the other forwards to it; a graceful stop hands over to epoch 2")
    func handover() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            try await Self.migrate(configuration)
            let first = Self.start("first", port: 1001, database: configuration)
            #expect(await Self.eventually { first.leadership.isLeader })
            #expect(first.leadership.role == .leader(epoch: 1))
            #expect(first.leadership.fenceEpoch == 1)
            #expect(first.takenOver == [1])
            let second = Self.start("second", port: 1002, database: configuration)
            #expect(await Self.eventually { second.leadership.forwardingAddress == "127.0.0.1:1001" })
            #expect(second.leadership.role == .standby)
            #expect(second.takenOver.isEmpty)

            let stopped = await first.stop()
            #expect((try? stopped.get()) != nil)
            #expect(first.leadership.role == .deposed)
            #expect(first.leadership.fenceEpoch == 0)
            #expect(await Self.eventually { second.leadership.isLeader })
            #expect(second.leadership.role == .leader(epoch: 2))
            #expect(second.takenOver == [2])
            #expect(!first.steppedDown.isSet)
            try await TestDatabase.withClient(configuration) { client in
                let rows = try await client.query("SELECT epoch, holder, address FROM leadership")
                for try await (epoch, holder, address) in rows.decode((Int64, String, String).self) {
                    #expect(epoch == 2 && holder == "second" && address == "127.0.0.1:1002")
                }
            }
            _ = await second.stop()
        }
    }

    @Test("a leader that finds a newer epoch steps down, and its fence no longer writes")
    func deposed() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            try await Self.migrate(configuration)
            let leader = Self.start("leader", port: 1001, database: configuration)
            #expect(await Self.eventually { leader.leadership.isLeader })
            // Another term begins behind its back (as a replica that took the lock after a partition
            // would begin it): the leader learns it at its next renewal.
            try await TestDatabase.withClient(configuration) { client in
                try await client.query("UPDATE leadership SET epoch = epoch + 1, holder = 'usurper'")
            }
            #expect(await Self.eventually { leader.steppedDown.isSet })
            #expect(leader.leadership.role == .deposed)
            #expect(leader.leadership.fenceEpoch == 0)
            let ended = await leader.run.value
            #expect((try? ended.get()) == nil)
            // The old epoch's fence refuses a write; the current one's passes.
            try await TestDatabase.withClient(configuration) { client in
                do {
                    for try await _ in try await client.query(Fencing.check(Fence(region: "test-region", epoch: 1))) {}
                    Issue.record("the old epoch passed the fence")
                } catch {
                    #expect(Fencing.isDeposed(error))
                }
                for try await _ in try await client.query(Fencing.check(Fence(region: "test-region", epoch: 2))) {}
            }
        }
    }
}
