import DispatchCore
import Foundation
import Geo
import Testing

@Suite("Recovery after a restart")
struct RecoveryTests {
    @Test("unfinished rides come back: searching ones search, offered ones re-search, assigned ones keep their driver")
    func restore() throws {
        var before = DispatchScript()
        let searching = try before.request("searching-rider", at: gangnam)  // nobody near Gangnam
        before.driver("offered-driver", distance: 100)
        let offered = try before.request("offered-rider")
        before.driver("accepted-driver", distance: 100, bearing: .south)
        let accepted = try before.request("accepted-rider")
        _ = try before.act(.accept, accepted.id, by: "accepted-driver")
        before.driver("riding-driver", distance: 100, bearing: .east)
        let riding = try before.request("riding-rider")
        for action in [DriverAction.accept, .arrive, .start] {
            _ = try before.act(action, riding.id, by: "riding-driver")
        }
        let done = try before.request("done-rider", at: gangnam)
        _ = try before.cancel(done.id, rider: "done-rider")
        #expect(before.ride(offered.id)?.status == .offered)

        // The process dies; what was stored is every ride's latest value.
        let stored = [searching.id, offered.id, accepted.id, riding.id, done.id].compactMap { before.ride($0) }
        var after = DispatchScript()
        after.rideNumber = 100  // a new process makes new ride IDs
        after.now = before.now + 5
        #expect(after.state.restore(stored, now: after.now) == [])
        after.collect()

        #expect(after.ride(searching.id)?.status == .requested)
        #expect(after.ride(offered.id)?.status == .requested)
        #expect(after.ride(accepted.id)?.status == .accepted)
        #expect(after.ride(accepted.id)?.driverID == driverID("accepted-driver"))
        #expect(after.ride(riding.id)?.status == .inProgress)
        #expect(after.ride(done.id) == nil)
        #expect(after.status(of: "accepted-driver") == .enRoute)
        #expect(after.status(of: "riding-driver") == .onTrip)
        // The offered ride's sequence continues: one event, the next number.
        let resumed = after.events.filter { $0.rideID == offered.id }
        #expect(resumed.map(\.kind) == [.searchResumed])
        #expect(resumed.first?.sequence == (stored.first { $0.id == offered.id }?.sequence ?? 0) + 1)
        #expect(after.state.invariantViolations() == [])

        // Drivers report again: the offer is re-made, the assigned rides go on.
        after.driver("offered-driver", distance: 100)
        after.advance(1)
        #expect(after.ride(offered.id)?.offer?.driverID == driverID("offered-driver"))
        after.driver("accepted-driver", distance: 20, bearing: .south)
        #expect(try after.act(.arrive, accepted.id, by: "accepted-driver").status == .arrived)
        #expect(try after.act(.complete, riding.id, by: "riding-driver").status == .completed)
        // Riders of unfinished rides still cannot ask twice; finished riders can.
        #expect(throws: DispatchError.self) { try after.request("accepted-rider") }
        #expect(try after.request("done-rider").status != .cancelled)
        #expect(after.state.invariantViolations() == [])
    }

    @Test("a driver who reported before the takeover keeps its stored ride: no earlier ride is offered to it first")
    func restoreAssignmentsBeforeSearching() throws {
        var before = DispatchScript()
        // Asked for first, where nobody is: it searches.
        let early = try before.request("early-rider", at: gangnam)
        before.driver("busy-driver", distance: 100)
        let late = try before.request("late-rider")
        _ = try before.act(.accept, late.id, by: "busy-driver")
        let stored = [early.id, late.id].compactMap { before.ride($0) }
        #expect(stored.map(\.requestedAt) == stored.map(\.requestedAt).sorted())

        // The standby that takes over heard the driver's reports meanwhile (they are served by any
        // replica), beside the early ride's pickup: fresh and, as far as its index knows, available.
        var after = DispatchScript()
        after.rideNumber = 100
        after.now = before.now + 5
        after.driver("busy-driver", at: gangnam, distance: 50)
        #expect(after.state.restore(stored, now: after.now) == [])
        after.collect()

        #expect(after.ride(late.id)?.status == .accepted)
        #expect(after.ride(late.id)?.driverID == driverID("busy-driver"))
        #expect(after.status(of: "busy-driver") == .enRoute)
        #expect(after.ride(early.id)?.status == .requested)
        #expect(after.kinds(of: early.id).contains(.rideOffered) == false)
        #expect(after.state.invariantViolations() == [])
    }

    @Test("an idempotency key of a restored ride returns that ride")
    func restoredIdempotencyKey() throws {
        var before = DispatchScript()
        let ride = try before.request("r", key: "key-1")
        var after = DispatchScript()
        after.state.restore([try #require(before.ride(ride.id))], now: after.now)
        let again = try after.state.requestRide(
            RideRequest(riderID: riderID("r"), pickup: cityHall, dropoff: gangnam),
            idempotencyKey: "key-1",
            id: try RideID("other"),
            now: after.now
        )
        #expect(again.ride.id == ride.id)
        #expect(!again.created)
    }
}

@Suite("A ride storage refused to create")
struct DiscardTests {
    @Test("is forgotten as if never asked for: the driver is free, the rider and the key may be used again")
    func discard() throws {
        var script = DispatchScript()
        script.driver("d1", distance: 200)
        let ride = try script.request("rider-1", key: "k")
        #expect(script.status(of: "d1") == .offered)
        let discarded = script.state.discard(ride.id, now: script.now)
        #expect(discarded)
        script.collect()
        #expect(script.ride(ride.id) == nil)
        #expect(script.status(of: "d1") == .available)
        #expect(script.state.openRideCount == 0)
        #expect(script.state.invariantViolations() == [])
        // Its timers fire on nothing.
        script.advance(600)
        #expect(script.kinds(of: ride.id) == [.rideRequested, .rideOffered])
        let again = try script.request("rider-1", key: "k")
        #expect(again.id != ride.id)
        let unknown = script.state.discard(try RideID("never-was"), now: script.now)
        #expect(!unknown)
    }
}
