import DispatchCore
import Foundation
import Testing

@testable import DispatchServer

/// The group commit's rules, without a database: each test drives the state machine as the writer
/// would, with plain integers for waiters and time.
@Suite("Group commit")
struct GroupCommitTests {
    typealias Log = GroupCommit<String, Int>

    /// `count` events of one ride.
    func events(_ count: Int, ride: String = "ride-1") throws -> [RideEvent] {
        try (1...count).map { sequence in
            RideEvent(
                rideID: try RideID(ride),
                riderID: try RiderID("rider-1"),
                sequence: sequence,
                kind: .rideRequested,
                at: Date(timeIntervalSince1970: 0),
                status: .requested,
                driverID: nil,
                offer: nil,
                searchRadius: nil,
                pickupDistance: nil
            )
        }
    }

    @Test("batches leave in order, as many as fit, one in flight at a time")
    func batching() throws {
        var log = Log(maximumBatchEvents: 5)
        let positions = try [2, 2, 2, 1].map { log.enqueue(events: try events($0), rides: []) }
        #expect(positions == [1, 2, 3, 4])
        let firstTaken = log.nextBatch()
        let first = try #require(firstTaken)
        #expect(first.entries.map(\.position) == [1, 2])  // a third entry would make 6 events
        let whileInFlight = log.nextBatch()
        #expect(whileInFlight == nil)
        let waits = [log.wait(for: 2, until: 100, "two"), log.wait(for: 4, until: 100, "four")]
        #expect(waits == [.waiting, .waiting])
        let resumedFirst = log.committed(first)
        #expect(resumedFirst == ["two"])
        #expect(log.committed == 2)
        let secondTaken = log.nextBatch()
        let second = try #require(secondTaken)
        #expect(second.entries.map(\.position) == [3, 4])
        let resumedSecond = log.committed(second)
        #expect(resumedSecond == ["four"])
        #expect(log.queue.isEmpty && log.queuedEvents == 0)
        // A position already committed needs no waiting.
        let waitsForCommitted = log.wait(for: 3, until: 100, "late")
        #expect(waitsForCommitted == .committed)
        // An entry larger than the limit still goes, alone.
        _ = log.enqueue(events: try events(9), rides: [])
        let large = log.nextBatch()
        #expect(large?.eventCount == 9)
    }

    @Test("without group commit, one entry per transaction")
    func oneByOne() throws {
        var log = Log(maximumBatchEvents: 5_000, groupCommit: false)
        for _ in 0..<3 { _ = log.enqueue(events: try events(1), rides: []) }
        var order: [UInt64] = []
        while let batch = log.nextBatch() {
            order += batch.entries.map(\.position)
            _ = log.committed(batch)
        }
        #expect(order == [1, 2, 3])
    }

    @Test("a batch that fails for want of the database is retried as it was, waiters keep waiting")
    func unavailableRetries() throws {
        var log = Log(maximumBatchEvents: 100)
        for _ in 0..<3 { _ = log.enqueue(events: try events(1), rides: []) }
        _ = log.wait(for: 3, until: 10, "c")
        let batchTaken = log.nextBatch()
        let batch = try #require(batchTaken)
        log.unavailable(batch)
        let againTaken = log.nextBatch()
        let again = try #require(againTaken)
        #expect(again.entries.map(\.position) == batch.entries.map(\.position))
        #expect(log.waiterCount == 1)
        let resumed = log.committed(again)
        #expect(resumed == ["c"])
    }

    @Test("a refused batch is split until the entry is found; it is dead-lettered, the rest commit")
    func deadLettering() throws {
        var log = Log(maximumBatchEvents: 100)
        for index in 1...8 { _ = log.enqueue(events: try events(1, ride: "ride-\(index)"), rides: []) }
        for position in UInt64(1)...8 { _ = log.wait(for: position, until: 10, "w\(position)") }
        #expect(log.waiterCount == 8)
        // Entry 6 is the bad one: any batch that holds it is refused.
        var deadLettered: [UInt64] = []
        var resumed: [String] = []
        var failed: [String] = []
        var transactions = 0
        while let batch = log.nextBatch() {
            transactions += 1
            if batch.entries.contains(where: { $0.position == 6 }) {
                switch log.refused(batch) {
                case .split: continue
                case .deadLettered(let entry, let failing):
                    deadLettered.append(entry.position)
                    failed += failing
                }
            } else {
                resumed += log.committed(batch)
            }
        }
        #expect(deadLettered == [6])
        #expect(failed == ["w6"])
        #expect(resumed == ["w1", "w2", "w3", "w4", "w5", "w7", "w8"])
        #expect(log.queue.isEmpty && log.committed == 8)
        // Bisection, not one transaction per entry: 1–8 refused, 1–4 ok, 5–8 refused, 5–6 refused, 5 ok,
        // 6 refused alone (dead-lettered), then 7–8 whole again.
        #expect(transactions == 7)
        // After the dead letter, batches are whole again.
        for _ in 0..<4 { _ = log.enqueue(events: try events(1), rides: []) }
        let whole = log.nextBatch()
        #expect(whole?.entries.count == 4)
    }

    @Test("waiters past their deadline are expired; the others stay")
    func expiry() throws {
        var log = Log(maximumBatchEvents: 100)
        _ = log.enqueue(events: try events(1), rides: [])
        _ = log.enqueue(events: try events(1), rides: [])
        _ = log.wait(for: 1, until: 5, "early")
        _ = log.wait(for: 2, until: 9, "late")
        #expect(log.earliestDeadline == 5)
        let notYet = log.expire(now: 4)
        #expect(notYet.isEmpty)
        let due = log.expire(now: 5)
        #expect(due == ["early"])
        #expect(log.earliestDeadline == 9)
        let rest = log.removeAllWaiters()
        #expect(rest == ["late"])
        #expect(log.waiterCount == 0)
    }

    @Test("a wait for a dead-lettered position fails at once; later ones still wait")
    func lateWaitOnDeadLetter() throws {
        var log = Log(maximumBatchEvents: 100)
        _ = log.enqueue(events: try events(1), rides: [])
        _ = log.enqueue(events: try events(1), rides: [])
        let firstTaken = log.nextBatch()
        let first = try #require(firstTaken)
        let refusal = log.refused(first)
        guard case .split = refusal else { throw CancellationError() }
        let aloneTaken = log.nextBatch()
        let alone = try #require(aloneTaken)
        guard case .deadLettered(let entry, let failing) = log.refused(alone) else { throw CancellationError() }
        #expect(entry.position == 1 && failing.isEmpty)
        let late = log.wait(for: 1, until: 10, "late")
        #expect(late == .deadLettered)
        let next = log.wait(for: 2, until: 10, "next")
        #expect(next == .waiting)
    }

    @Test("a ride whose creation was dead-lettered is withdrawn from every queued entry")
    func withdraw() throws {
        var log = Log(maximumBatchEvents: 100)
        _ = log.enqueue(events: try events(1, ride: "bad"), rides: [])
        _ = log.enqueue(events: try events(2, ride: "bad") + events(1, ride: "good"), rides: [])
        #expect(log.queuedEvents == 4)
        log.withdraw(rides: [try RideID("bad")])
        #expect(log.queuedEvents == 1)
        #expect(log.queue.flatMap(\.events).map(\.rideID.rawValue) == ["good"])
    }

    @Test("a refusal that does not come back in the halves stops capping batches once they are past")
    func splitEnds() throws {
        var log = Log(maximumBatchEvents: 100)
        for _ in 0..<4 { _ = log.enqueue(events: try events(1), rides: []) }
        let wholeTaken = log.nextBatch()
        let whole = try #require(wholeTaken)
        _ = log.refused(whole)
        // The halves commit (the refusal was not the entries'): once past, batches are whole again.
        for _ in 0..<2 {
            let halfTaken = log.nextBatch()
            let half = try #require(halfTaken)
            #expect(half.entries.count == 2)
            _ = log.committed(half)
        }
        for _ in 0..<3 { _ = log.enqueue(events: try events(1), rides: []) }
        let afterTaken = log.nextBatch()
        #expect(afterTaken?.entries.count == 3)
    }

    @Test("fenced by a newer epoch: the queue and every waiter are dropped, and nothing is queued again")
    func fenced() throws {
        var log = Log(maximumBatchEvents: 100)
        _ = log.enqueue(events: try events(2), rides: [])
        _ = log.enqueue(events: try events(3, ride: "ride-2"), rides: [])
        let waits = [log.wait(for: 1, until: 100, "one"), log.wait(for: 2, until: 100, "two")]
        #expect(waits == [.waiting, .waiting])
        // The first entry was sent once and failed for want of the database: it may have committed.
        let attemptedTaken = log.nextBatch()
        let attempted = try #require(attemptedTaken)
        log.unavailable(Log.Batch(entries: [attempted.entries[0]]))
        let taken = log.nextBatch()
        #expect(taken != nil)
        let (dropped, notCommitted, unknown) = log.fenced()
        #expect(dropped == 5)
        #expect(unknown == ["one"])
        #expect(notCommitted == ["two"])
        #expect(log.isFenced && log.queue.isEmpty && log.queuedEvents == 0 && log.waiterCount == 0)
        // A command applied after the fence is neither queued nor waited for: it is told at once.
        let position = log.enqueue(events: try events(1, ride: "ride-3"), rides: [])
        #expect(log.queue.isEmpty)
        let late = log.wait(for: position, until: 100, "late")
        #expect(late == .fenced)
        let next = log.nextBatch()
        #expect(next == nil)
    }
}
