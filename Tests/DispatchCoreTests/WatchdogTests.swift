import DispatchCore
import Foundation
import Geo
import Testing

@Suite("No ride stuck forever: the watchdogs, and operators ending rides")
struct WatchdogTests {
    /// A ride accepted by `d1`, 300 m from the pickup (ETA 43.2 s at 25 km/h).
    func accepted(_ script: inout DispatchScript) throws -> Ride {
        script.driver("d1", distance: 300)
        let ride = try script.request("rider-1")
        return try script.act(.accept, ride.id, by: "d1")
    }

    @Test("an accepted ride whose driver has not arrived by ETA × factor + margin searches again")
    func pickupOverdue() throws {
        var script = DispatchScript()
        let ride = try accepted(&script)
        let due = try #require(ride.acceptedAt) + 43.2 * 2 + 300
        // The driver keeps reporting (it is not lost), but never arrives.
        while script.now + 60 < due {
            script.advance(60)
            script.driver("d1", distance: 250)
        }
        #expect(script.ride(ride.id)?.status == .accepted)
        script.advance(due.timeIntervalSince(script.now))
        let lapse = try #require(script.events.last { $0.kind == .assignmentLapsed })
        #expect(lapse.reason == "pickup_overdue")
        #expect(lapse.driverID == driverID("d1"))
        // The driver is free, and the ride never goes back to it; it has a whole search ahead.
        #expect(script.status(of: "d1") == .available)
        let after = try #require(script.ride(ride.id))
        #expect(after.status == .requested)
        #expect(after.driverID == nil)
        #expect(after.search.excluded.contains(driverID("d1")))
        #expect(after.search.deadline == script.now + 120)
        script.driver("d2", distance: 500)
        script.advance(1)
        #expect(script.ride(ride.id)?.offer?.driverID == driverID("d2"))
        _ = script.checkedEvents(of: ride.id)
        #expect(script.state.invariantViolations() == [])
    }

    @Test("a ride whose assigned driver falls through searches a whole timeout again, not to the old deadline")
    func freshSearchAfterAssignment() throws {
        var script = DispatchScript()
        let ride = try accepted(&script)
        script.advance(30)
        _ = try script.cancel(ride.id, driver: "d1")
        #expect(script.ride(ride.id)?.search.deadline == script.now + 120)
        // The request's own deadline (120 s after it) passes: the ride still searches.
        script.advance(100)
        #expect(script.ride(ride.id)?.status == .requested)
        script.advance(19)
        #expect(script.ride(ride.id)?.status == .requested)
        script.advance(1)
        #expect(script.ride(ride.id)?.status == .unfulfilled)
        #expect(script.state.invariantViolations() == [])
    }

    @Test("a driver silent longer than the assigned driver's TTL while holding a ride is treated as gone")
    func driverLost() throws {
        var script = DispatchScript()
        let ride = try accepted(&script)
        script.advance(100)
        script.driver("d1", distance: 200)  // heard from at 100 s: the TTL runs from here
        script.advance(110)
        _ = try script.act(.arrive, ride.id, by: "d1")
        script.advance(9)
        #expect(script.ride(ride.id)?.status == .arrived)
        script.advance(1)
        let lapse = try #require(script.events.last { $0.kind == .assignmentLapsed })
        #expect(lapse.reason == "driver_lost")
        #expect(script.ride(ride.id)?.status == .requested)
        #expect(script.state.invariantViolations() == [])
    }

    @Test("a trip past the maximum duration is completed by the service; a silent driver mid-trip is not lost")
    func tripTimeLimit() throws {
        var script = DispatchScript { $0.maximumTripDuration = .seconds(3_600) }
        let ride = try accepted(&script)
        _ = try script.act(.arrive, ride.id, by: "d1")
        _ = try script.act(.start, ride.id, by: "d1")
        script.advance(3_599)
        // No report for an hour: the rider is on board, so the trip goes on.
        #expect(script.ride(ride.id)?.status == .inProgress)
        script.advance(1)
        let done = try #require(script.ride(ride.id))
        #expect(done.status == .completed)
        #expect(script.events.last?.kind == .rideCompleted)
        #expect(script.events.last?.reason == "trip_time_limit")
        #expect(script.status(of: "d1") == .available)
        // The rider may ask again.
        #expect(try script.request("rider-1").status == .requested)
        #expect(script.state.invariantViolations() == [])
    }

    @Test("a ride restored after a restart, stuck before it, is unstuck by the watchdogs")
    func restoredStuckRide() throws {
        var before = DispatchScript()
        let ride = try accepted(&before)
        let stored = try #require(before.ride(ride.id))
        // The service comes back an hour later: the pickup is long overdue.
        var after = DispatchScript()
        after.now = before.now + 3_600
        #expect(after.state.restore([stored], now: after.now) == [])
        after.advance(0)
        #expect(after.events.last?.kind == .assignmentLapsed)
        #expect(after.events.last?.reason == "pickup_overdue")
        #expect(after.events.last?.sequence == stored.sequence + 1)
        #expect(after.ride(ride.id)?.status == .requested)
        #expect(after.state.invariantViolations() == [])
    }

    @Test("watchdogs wait through a pause like every other deadline")
    func pausedWatchdog() throws {
        var script = DispatchScript()
        let ride = try accepted(&script)
        _ = try script.act(.arrive, ride.id, by: "d1")
        script.advance(60)
        script.state.pause(now: script.now)
        // The outage: the driver's reports still arrive, nothing fires.
        for _ in 0..<10 {
            script.advance(50)
            script.driver("d1", distance: 0)
        }
        script.state.resume(now: script.now)
        script.collect()
        #expect(script.ride(ride.id)?.status == .arrived)
        #expect(!script.kinds(of: ride.id).contains(.assignmentLapsed))
    }

    @Test("an operator cancels a ride from any unfinished state, and completes one a driver holds")
    func operatorEnds() throws {
        var script = DispatchScript()
        script.driver("d1", distance: 300)
        let offered = try script.request("rider-1")
        #expect(offered.status == .offered)
        let cancelled = try script.state.end(
            offered.id,
            as: .cancelled,
            reason: "rider called support",
            now: script.now
        )
        script.collect()
        #expect(cancelled.status == .cancelled)
        #expect(script.events.last?.reason == "rider called support")
        #expect(script.events.last?.driverID == driverID("d1"))
        #expect(script.status(of: "d1") == .available)
        // Completing needs an assigned driver.
        let searching = try script.request("rider-2", at: cityHall.destination(bearing: .east, distance: 50_000))
        #expect(throws: DispatchError.self) {
            try script.state.end(searching.id, as: .completed, reason: "x", now: script.now)
        }
        let held = try script.request("rider-3")
        _ = try script.act(.accept, held.id, by: "d1")
        _ = try script.act(.arrive, held.id, by: "d1")
        let completed = try script.state.end(held.id, as: .completed, reason: "app failed at drop-off", now: script.now)
        script.collect()
        #expect(completed.status == .completed)
        #expect(script.events.last?.kind == .rideCompleted)
        #expect(script.status(of: "d1") == .available)
        // A finished ride cannot be ended again.
        do {
            _ = try script.state.end(held.id, as: .cancelled, reason: "again", now: script.now)
            Issue.record("ending a finished ride succeeded")
        } catch {
            #expect(error.code == .transitionNotAllowed)
        }
        #expect(script.state.invariantViolations() == [])
    }
}
