import DispatchCore
import DispatchTestSupport
import Foundation
import Geo
import Testing

private let t0 = Date(timeIntervalSince1970: 1_800_000_000)

private func id(_ raw: String) -> DriverID { try! DriverID(raw) }

private func nearbyIDs(_ registry: inout DriverRegistry, at time: Date, radius: Meters = 3_000) throws -> [String] {
    try registry.nearby(cityHall, radius: radius, limit: 100, now: time).map(\.key.rawValue)
}

@Suite("DriverRegistry: locations, freshness, ordering and status")
struct DriverRegistryTests {
    @Test("a driver not seen before becomes available and is found nearby")
    func newDriver() throws {
        var registry = DriverRegistry(freshness: .seconds(30))
        let outcome = try registry.updateLocation(
            id("d1"),
            to: cityHall.destination(bearing: .east, distance: 120),
            recordedAt: nil,
            now: t0
        )
        #expect(outcome == .applied(isNewDriver: true))
        #expect(registry.driver(id("d1"))?.status == .available)
        #expect(registry.driver(id("d1"))?.updatedAt == t0)
        let found = try registry.nearby(cityHall, radius: 3_000, limit: 10, now: t0)
        #expect(found.map(\.key) == [id("d1")])
        #expect(abs(found[0].distance.value - 120) < 1e-6)
    }

    @Test("a driver drops out exactly when its last report is DRIVER_TTL old, and returns on its next report")
    func freshness() throws {
        var registry = DriverRegistry(freshness: .seconds(30))
        _ = try registry.updateLocation(id("d1"), to: cityHall, recordedAt: nil, now: t0)
        _ = try registry.updateLocation(id("d2"), to: cityHall, recordedAt: nil, now: t0 + 10)
        #expect(try nearbyIDs(&registry, at: t0 + 29.999) == ["d1", "d2"])
        #expect(try nearbyIDs(&registry, at: t0 + 30) == ["d2"])
        #expect(registry.counts(now: t0 + 30) == DriverCounts(available: 1, stale: 1, offline: 0))
        // Still known, with its last location; just not offered.
        #expect(registry.driver(id("d1"))?.location == cityHall)
        #expect(try nearbyIDs(&registry, at: t0 + 40) == [])
        _ = try registry.updateLocation(id("d1"), to: cityHall, recordedAt: nil, now: t0 + 41)
        #expect(try nearbyIDs(&registry, at: t0 + 41) == ["d1"])
    }

    @Test("a report refreshes the driver: the earlier report's expiry does not remove it")
    func refreshedDriverStays() throws {
        var registry = DriverRegistry(freshness: .seconds(30))
        _ = try registry.updateLocation(id("d1"), to: cityHall, recordedAt: nil, now: t0)
        _ = try registry.updateLocation(id("d1"), to: cityHall, recordedAt: nil, now: t0 + 20)
        #expect(registry.expireStale(now: t0 + 35) == [])
        #expect(try nearbyIDs(&registry, at: t0 + 49) == ["d1"])
        #expect(registry.expireStale(now: t0 + 50) == [id("d1")])
        #expect(registry.expireStale(now: t0 + 60) == [])
    }

    @Test("an update older than the last applied one is acknowledged but not applied")
    func outOfOrder() throws {
        var registry = DriverRegistry(freshness: .seconds(30))
        let first = cityHall
        let second = cityHall.destination(bearing: .north, distance: 200)
        let stale = cityHall.destination(bearing: .south, distance: 500)
        #expect(
            try registry.updateLocation(id("d1"), to: first, recordedAt: t0 - 10, now: t0)
                == .applied(isNewDriver: true)
        )
        #expect(
            try registry.updateLocation(id("d1"), to: second, recordedAt: t0 - 5, now: t0 + 1)
                == .applied(isNewDriver: false)
        )
        // Recorded before the last applied fix: ignored, and it does not refresh the driver.
        #expect(try registry.updateLocation(id("d1"), to: stale, recordedAt: t0 - 7, now: t0 + 2) == .ignoredOutOfOrder)
        #expect(registry.driver(id("d1"))?.location == second)
        #expect(registry.driver(id("d1"))?.updatedAt == t0 + 1)
        // The same time as the last applied fix is not older: applied.
        #expect(
            try registry.updateLocation(id("d1"), to: stale, recordedAt: t0 - 5, now: t0 + 3)
                == .applied(isNewDriver: false)
        )
        #expect(try registry.nearby(cityHall, radius: 3_000, limit: 5, now: t0 + 3).first?.coordinate == stale)
    }

    @Test("a report older than the maximum age is dropped while the driver is fresh, and taken when it is not")
    func lateReports() throws {
        var registry = DriverRegistry(freshness: .seconds(30), maximumReportAge: .seconds(4))
        let first = cityHall
        let late = cityHall.destination(bearing: .north, distance: 300)
        #expect(
            try registry.updateLocation(id("d1"), to: first, recordedAt: t0, now: t0) == .applied(isNewDriver: true)
        )
        // Fixed 4.5 s before it arrived: the driver's next report is newer, so this one is dropped.
        #expect(try registry.updateLocation(id("d1"), to: late, recordedAt: t0 + 1, now: t0 + 5.5) == .droppedStale)
        #expect(registry.driver(id("d1"))?.location == first)
        #expect(registry.driver(id("d1"))?.updatedAt == t0)
        // Exactly the maximum age is still in time.
        #expect(
            try registry.updateLocation(id("d1"), to: late, recordedAt: t0 + 2, now: t0 + 6)
                == .applied(isNewDriver: false)
        )
        // A driver with no fresh position takes a late report rather than none (a lagging device clock).
        #expect(
            try registry.updateLocation(id("d1"), to: first, recordedAt: t0 + 30, now: t0 + 40)
                == .applied(isNewDriver: false)
        )
        // A new driver is not fresh either.
        #expect(
            try registry.updateLocation(id("d2"), to: first, recordedAt: t0 + 12, now: t0 + 40)
                == .applied(isNewDriver: true)
        )
        // Without a maximum age nothing is dropped for age.
        var unbounded = DriverRegistry(freshness: .seconds(30))
        _ = try unbounded.updateLocation(id("d1"), to: first, recordedAt: t0, now: t0)
        #expect(
            try unbounded.updateLocation(id("d1"), to: late, recordedAt: t0 + 1, now: t0 + 25)
                == .applied(isNewDriver: false)
        )
    }

    @Test(
        "a recordedAt more than 10 s ahead or older than the TTL is refused and changes nothing",
        arguments: [10.001, 301, -30.001, -3_600]
    )
    func recordedAtOutOfBounds(offset: TimeInterval) throws {
        var registry = DriverRegistry(freshness: .seconds(30))
        _ = try registry.updateLocation(id("d1"), to: cityHall, recordedAt: nil, now: t0)
        let now = t0 + 1
        #expect {
            try registry.updateLocation(
                id("d1"),
                to: cityHall.destination(bearing: .east, distance: 50),
                recordedAt: now + offset,
                now: now
            )
        } throws: { error in
            (error as? DispatchError)?.code == .invalidRecordedAt
        }
        #expect {
            try registry.updateLocation(id("new"), to: cityHall, recordedAt: now + offset, now: now)
        } throws: { error in
            (error as? DispatchError)?.code == .invalidRecordedAt
        }
        #expect(registry.driver(id("d1"))?.location == cityHall)
        #expect(registry.driver(id("d1"))?.updatedAt == t0)
        #expect(registry.driver(id("new")) == nil)
    }

    @Test("the bounds themselves are inside: now + 10 s and now − TTL")
    func recordedAtAtTheBounds() throws {
        var registry = DriverRegistry(freshness: .seconds(30))
        #expect(
            try registry.updateLocation(id("d1"), to: cityHall, recordedAt: t0 - 30, now: t0)
                == .applied(isNewDriver: true)
        )
        #expect(
            try registry.updateLocation(id("d1"), to: cityHall, recordedAt: t0 + 10, now: t0)
                == .applied(isNewDriver: false)
        )
    }

    @Test("offline drivers are in no answer; available brings a fresh driver back at once")
    func offlineAndBack() throws {
        var registry = DriverRegistry(freshness: .seconds(30))
        _ = try registry.updateLocation(id("d1"), to: cityHall, recordedAt: nil, now: t0)
        let offline = try registry.setStatus(id("d1"), to: .offline, now: t0 + 1)
        #expect(offline.status == .offline)
        #expect(try nearbyIDs(&registry, at: t0 + 1) == [])
        // Reports while offline update the location but keep the driver out.
        let moved = cityHall.destination(bearing: .west, distance: 300)
        _ = try registry.updateLocation(id("d1"), to: moved, recordedAt: nil, now: t0 + 2)
        #expect(try nearbyIDs(&registry, at: t0 + 2) == [])
        #expect(registry.counts(now: t0 + 2) == DriverCounts(available: 0, stale: 0, offline: 1))
        _ = try registry.setStatus(id("d1"), to: .available, now: t0 + 3)
        let found = try registry.nearby(cityHall, radius: 3_000, limit: 10, now: t0 + 3)
        #expect(found.map(\.key) == [id("d1")])
        #expect(found.first?.coordinate == moved)
    }

    @Test("a driver who went offline comes back offline: after being forgotten, and after a restart")
    func offlineIsRemembered() throws {
        var registry = DriverRegistry(freshness: .seconds(30), forgetAfter: .seconds(300))
        _ = try registry.updateLocation(id("d1"), to: cityHall, recordedAt: nil, now: t0)
        _ = try registry.updateLocation(id("d2"), to: cityHall, recordedAt: nil, now: t0)
        _ = try registry.setStatus(id("d1"), to: .offline, now: t0 + 1)
        _ = registry.expireStale(now: t0 + 400)
        #expect(registry.driver(id("d1")) == nil)
        #expect(registry.driver(id("d2")) == nil)
        _ = try registry.updateLocation(id("d1"), to: cityHall, recordedAt: nil, now: t0 + 401)
        _ = try registry.updateLocation(id("d2"), to: cityHall, recordedAt: nil, now: t0 + 401)
        #expect(registry.driver(id("d1"))?.status == .offline)
        #expect(registry.driver(id("d2"))?.status == .available)
        #expect(try nearbyIDs(&registry, at: t0 + 401) == ["d2"])
        // After a restart: the stored offline drivers are remembered until they report.
        var restarted = DriverRegistry(freshness: .seconds(30))
        restarted.rememberOffline([id("d1")])
        _ = try restarted.updateLocation(id("d1"), to: cityHall, recordedAt: nil, now: t0)
        #expect(restarted.driver(id("d1"))?.status == .offline)
        #expect(try nearbyIDs(&restarted, at: t0) == [])
        // Once it says so, it is available, and stays so.
        _ = try restarted.setStatus(id("d1"), to: .available, now: t0 + 1)
        #expect(try nearbyIDs(&restarted, at: t0 + 1) == ["d1"])
    }

    @Test("a stale driver set available stays out until it reports again")
    func availableWhileStale() throws {
        var registry = DriverRegistry(freshness: .seconds(30))
        _ = try registry.updateLocation(id("d1"), to: cityHall, recordedAt: nil, now: t0)
        _ = try registry.setStatus(id("d1"), to: .offline, now: t0 + 1)
        _ = try registry.setStatus(id("d1"), to: .available, now: t0 + 31)
        #expect(try nearbyIDs(&registry, at: t0 + 31) == [])
        _ = try registry.updateLocation(id("d1"), to: cityHall, recordedAt: nil, now: t0 + 32)
        #expect(try nearbyIDs(&registry, at: t0 + 32) == ["d1"])
    }

    @Test("setting the status of a driver never seen is driver_not_found")
    func statusOfUnknownDriver() {
        var registry = DriverRegistry(freshness: .seconds(30))
        #expect {
            try registry.setStatus(id("ghost"), to: .offline, now: t0)
        } throws: { error in
            (error as? DispatchError)?.code == .driverNotFound
        }
        #expect(registry.driver(id("ghost")) == nil)
    }

    @Test(
        "nearby rejects radius and limit out of range",
        arguments: [
            (0.0, 10), (-5, 10), (50_001, 10), (Double.nan, 10), (Double.infinity, 10), (3_000, 0), (3_000, 101),
        ]
    )
    func nearbyValidation(radius: Double, limit: Int) throws {
        var registry = DriverRegistry(freshness: .seconds(30))
        _ = try registry.updateLocation(id("d1"), to: cityHall, recordedAt: nil, now: t0)
        #expect {
            try registry.nearby(cityHall, radius: Meters(radius), limit: limit, now: t0)
        } throws: { error in
            (error as? DispatchError)?.code == .invalidQuery
        }
    }

    @Test("nearby answers nearest first, ties by ID, limited, within the radius")
    func nearbyOrdering() throws {
        var registry = DriverRegistry(freshness: .seconds(30))
        let spot = cityHall.destination(bearing: .north, distance: 100)
        for raw in ["c", "a", "b"] { _ = try registry.updateLocation(id(raw), to: spot, recordedAt: nil, now: t0) }
        _ = try registry.updateLocation(
            id("near"),
            to: cityHall.destination(bearing: .east, distance: 10),
            recordedAt: nil,
            now: t0
        )
        _ = try registry.updateLocation(
            id("far"),
            to: cityHall.destination(bearing: .east, distance: 3_500),
            recordedAt: nil,
            now: t0
        )
        #expect(
            try registry.nearby(cityHall, radius: 3_000, limit: 3, now: t0).map(\.key.rawValue) == ["near", "a", "b"]
        )
        #expect(try nearbyIDs(&registry, at: t0, radius: 4_000) == ["near", "a", "b", "c", "far"])
    }
}

@Suite("Dispatcher with an injected clock")
struct DispatcherTests {
    @Test("time comes from the clock: a driver expires when the clock passes its TTL")
    func clockDrivesFreshness() throws {
        let clock = ManualClock(start: t0)
        var configuration = DispatchConfiguration()
        configuration.driverFreshness = .seconds(5)
        let dispatcher = Dispatcher(configuration: configuration, clock: clock)
        _ = try dispatcher.updateLocation(id("d1"), to: cityHall, recordedAt: nil)
        #expect(try dispatcher.nearbyDrivers(around: cityHall, radius: 1_000, limit: 5).count == 1)
        clock.advance(by: 5)
        #expect(try dispatcher.nearbyDrivers(around: cityHall, radius: 1_000, limit: 5).isEmpty)
        #expect(dispatcher.snapshot().drivers == DriverCounts(available: 0, stale: 1, offline: 0))
        #expect(dispatcher.driver(id("d1"))?.updatedAt == t0)
    }

    @Test("city changes: everything first, then only what changed since, stale drivers among them as they go stale")
    func cityChanges() throws {
        let clock = ManualClock(start: t0)
        var configuration = DispatchConfiguration()
        configuration.driverFreshness = .seconds(5)
        let dispatcher = Dispatcher(configuration: configuration, clock: clock)
        _ = try dispatcher.updateLocation(id("quiet"), to: cityHall, recordedAt: nil)
        clock.advance(by: 3)
        let north = cityHall.destination(bearing: .north, distance: 400)
        _ = try dispatcher.updateLocation(id("busy"), to: north, recordedAt: nil)
        let first = dispatcher.cityChanges(since: nil)
        #expect(first.isComplete)
        #expect(first.at == t0 + 3)
        #expect(Set(first.drivers.map(\.id)) == [id("quiet"), id("busy")])
        #expect(first.rides.isEmpty)
        #expect(first.drivers.filter(first.isStale).isEmpty)

        let ride = try dispatcher.requestRide(
            RideRequest(riderID: riderID("rider-1"), pickup: north, dropoff: gangnam),
            idempotencyKey: nil
        ).value.ride
        let second = dispatcher.cityChanges(since: first.position)
        #expect(!second.isComplete)
        // The busy driver waits at the pickup, 400 m nearer than the quiet one: it holds the offer.
        #expect(Set(second.drivers.map(\.id)) == [id("busy")])
        #expect(second.drivers.allSatisfy { $0.status == .offered })
        #expect(Set(second.rides.map(\.id)) == [ride.id])
        #expect(second.rides.allSatisfy { $0.status == .offered && $0.offer?.driverID == id("busy") })

        // Nothing changed: nothing. Then the quiet driver goes stale: it is a change as it goes.
        let third = dispatcher.cityChanges(since: second.position)
        #expect(third.drivers.isEmpty && third.rides.isEmpty && third.position == second.position)
        clock.advance(by: 2)
        let fourth = dispatcher.cityChanges(since: third.position)
        #expect(fourth.drivers.map(\.id) == [id("quiet")])
        #expect(fourth.drivers.filter(fourth.isStale).map(\.id) == [id("quiet")])
        #expect(dispatcher.snapshot().drivers.stale == 1)

        // Finished rides are among the changes (so that a reader drops them); a complete read holds
        // only unfinished ones.
        _ = try dispatcher.cancel(ride.id, byRider: riderID("rider-1"))
        let fifth = dispatcher.cityChanges(since: fourth.position)
        #expect(fifth.rides.map(\.status).allSatisfy(\.isFinal) && !fifth.rides.isEmpty)
        #expect(dispatcher.cityChanges(since: nil).rides.isEmpty)
    }
}

@Suite("The change journal: what changed since, in bounded memory")
struct ChangeJournalTests {
    @Test("keeps nothing until a reader follows, then hands it what changed since its last read")
    func followsItsReader() {
        var journal = ChangeJournal<String>(capacity: 3)
        journal.record("before")
        #expect(journal.sequence == 1 && !journal.isFollowed)
        // The first read is a complete one; from then on the journal follows.
        #expect(journal.take(since: nil) == nil)
        #expect(journal.isFollowed)
        journal.record("a")
        journal.record("b")
        journal.record("a")
        #expect(journal.take(since: 1) == ["a", "b", "a"])
        #expect(journal.take(since: 4) == [])
        journal.record("c")
        #expect(journal.take(since: 4) == ["c"])
        // A sequence it did not give: read everything again, and be followed from the current one.
        journal.record("d")
        #expect(journal.take(since: 9) == nil)
        journal.record("e")
        #expect(journal.take(since: 6) == ["e"])
        // One older than what it holds: the same.
        journal.record("f")
        #expect(journal.take(since: 6) == nil)
        #expect(journal.take(since: 8) == [])
    }

    @Test("a reader that falls behind by more than the capacity is let go, and nothing is held after")
    func letsAStragglerGo() {
        var journal = ChangeJournal<String>(capacity: 3)
        #expect(journal.take(since: nil) == nil)
        for key in ["a", "b", "c"] { journal.record(key) }
        #expect(journal.isFollowed)
        journal.record("d")
        #expect(!journal.isFollowed)
        #expect(journal.sequence == 4)
        journal.record("e")
        #expect(journal.take(since: 0) == nil)
        journal.record("f")
        #expect(journal.take(since: 5) == ["f"])
    }
}

@Suite("Forgetting silent drivers, and the ceiling on how many are remembered")
struct DriverForgettingTests {
    @Test("a driver silent for the forget period is forgotten entirely; one that reported since is not")
    func forgetsSilentDrivers() throws {
        var registry = DriverRegistry(freshness: .seconds(30), forgetAfter: .seconds(300))
        _ = try registry.updateLocation(id("gone"), to: cityHall, recordedAt: nil, now: t0)
        _ = try registry.updateLocation(id("back"), to: cityHall, recordedAt: nil, now: t0)
        _ = try registry.updateLocation(id("off"), to: cityHall, recordedAt: nil, now: t0)
        _ = try registry.setStatus(id("off"), to: .offline, now: t0)
        _ = try registry.updateLocation(id("back"), to: cityHall, recordedAt: nil, now: t0 + 100)
        #expect(registry.counts(now: t0 + 299.9) == DriverCounts(available: 0, stale: 2, offline: 1))
        #expect(registry.count == 3)
        #expect(registry.counts(now: t0 + 300) == DriverCounts(available: 0, stale: 1))
        #expect(registry.driver(id("gone")) == nil)
        #expect(registry.driver(id("off")) == nil)
        #expect(registry.driver(id("back")) != nil)
        #expect(registry.forgottenCount == 2)
        #expect(registry.counts(now: t0 + 400) == DriverCounts())
        #expect(registry.count == 0)
        // A forgotten driver that reports again is a new driver.
        #expect(
            try registry.updateLocation(id("gone"), to: cityHall, recordedAt: nil, now: t0 + 401)
                == .applied(isNewDriver: true)
        )
    }

    @Test("past the ceiling a new driver is refused, known ones still report, and forgetting makes room")
    func ceiling() throws {
        var registry = DriverRegistry(freshness: .seconds(30), forgetAfter: .seconds(60), maximumDrivers: 2)
        _ = try registry.updateLocation(id("a"), to: cityHall, recordedAt: nil, now: t0)
        _ = try registry.updateLocation(id("b"), to: cityHall, recordedAt: nil, now: t0 + 30)
        #expect {
            try registry.updateLocation(id("c"), to: cityHall, recordedAt: nil, now: t0 + 31)
        } throws: { error in
            (error as? DispatchError)?.code == .capacityExhausted
        }
        #expect(registry.driver(id("c")) == nil)
        #expect(
            try registry.updateLocation(id("a"), to: cityHall, recordedAt: nil, now: t0 + 31)
                == .applied(isNewDriver: false)
        )
        // b falls silent for the forget period; then there is room for c.
        #expect(
            try registry.updateLocation(id("c"), to: cityHall, recordedAt: nil, now: t0 + 90)
                == .applied(isNewDriver: true)
        )
        #expect(registry.driver(id("b")) == nil)
    }
}
