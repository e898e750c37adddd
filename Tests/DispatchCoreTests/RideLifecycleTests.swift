import DispatchCore
import Foundation
import Geo
import Testing

@Suite("Ride lifecycle: every transition, scripted with a manual clock")
struct RideLifecycleTests {
    @Test("request → offer to the nearest → accept → arrive → start → complete, one event per change")
    func happyPath() throws {
        var script = DispatchScript { $0.citySpeedKilometersPerHour = 36 }  // 10 m/s
        script.driver("far", distance: 900, bearing: .east)
        script.driver("near", distance: 300, bearing: .west)
        let requested = try script.request("rider-1")
        #expect(requested.status == .offered)
        let offer = try #require(requested.offer)
        #expect(offer.driverID == driverID("near"))
        #expect(offer.expiresAt == script.now + 15)
        #expect(offer.explanation.matching == .greedy)
        #expect(offer.explanation.radius == 3_000)
        #expect(offer.explanation.candidates == 2)
        #expect(offer.explanation.rank == 1)
        #expect(abs(offer.explanation.pickupDistance.value - 300) < 1e-6)
        #expect(script.status(of: "near") == .offered)
        #expect(script.state.offer(heldBy: driverID("near")) == offer)
        #expect(script.state.offer(heldBy: driverID("far")) == nil)

        script.advance(4)
        let accepted = try script.act(.accept, requested.id, by: "near")
        #expect(accepted.status == .accepted)
        #expect(accepted.driverID == driverID("near"))
        #expect(accepted.eta == .seconds(30))
        #expect(accepted.acceptedAt == script.now)
        #expect(script.status(of: "near") == .enRoute)

        script.advance(30)
        #expect(try script.act(.arrive, requested.id, by: "near").status == .arrived)
        script.advance(60)
        #expect(try script.act(.start, requested.id, by: "near").status == .inProgress)
        #expect(script.status(of: "near") == .onTrip)
        script.advance(600)
        let completed = try script.act(.complete, requested.id, by: "near")
        #expect(completed.status == .completed)
        #expect(completed.completedAt == script.now)
        #expect(script.status(of: "near") == .available)

        let events = script.checkedEvents(of: requested.id)
        #expect(
            events.map(\.kind) == [
                .rideRequested, .rideOffered, .rideAccepted, .driverArrived, .tripStarted, .rideCompleted,
            ]
        )
        #expect(
            events.map(\.status) == [.requested, .offered, .accepted, .arrived, .inProgress, .completed]
        )
        #expect(events.dropFirst().allSatisfy { $0.driverID == driverID("near") })
        #expect(events[1].offer == offer)
        #expect(script.state.invariantViolations() == [])
        // The rider may ask again once the ride has finished; the freed driver, reporting again, is a
        // candidate again (the other one has been silent too long).
        script.driver("near", at: gangnam)
        let next = try script.request("rider-1", at: gangnam, to: cityHall)
        #expect(next.offer?.driverID == driverID("near"))
        #expect(next.offer?.explanation.candidates == 1)
    }

    @Test("a declined ride goes to the next best driver, never back to the one who declined")
    func declineReoffers() throws {
        var script = DispatchScript()
        script.driver("a", distance: 100)
        script.driver("b", distance: 200)
        let ride = try script.request("r")
        #expect(ride.offer?.driverID == driverID("a"))
        let declined = try script.act(.decline, ride.id, by: "a")
        #expect(declined.status == .offered)
        #expect(declined.offer?.driverID == driverID("b"))
        #expect(declined.offer?.explanation.candidates == 1)
        #expect(script.status(of: "a") == .available)
        _ = try script.act(.decline, ride.id, by: "b")
        // Both declined: nobody left, even though both are available and near.
        #expect(script.ride(ride.id)?.status == .requested)
        script.advance(5)
        #expect(script.ride(ride.id)?.status == .requested)
        #expect(
            script.kinds(of: ride.id) == [.rideRequested, .rideOffered, .offerDeclined, .rideOffered, .offerDeclined]
        )
        #expect(script.state.invariantViolations() == [])
    }

    @Test("an unanswered offer expires after OFFER_TIMEOUT, frees the driver and goes to the next one")
    func expiry() throws {
        var script = DispatchScript { $0.offerTimeout = .seconds(15) }
        script.driver("slow", distance: 100)
        script.driver("next", distance: 500)
        let ride = try script.request("r")
        script.advance(14.999)
        #expect(script.ride(ride.id)?.offer?.driverID == driverID("slow"))
        script.advance(0.001)
        #expect(script.ride(ride.id)?.offer?.driverID == driverID("next"))
        #expect(script.status(of: "slow") == .available)
        #expect(script.kinds(of: ride.id) == [.rideRequested, .rideOffered, .offerExpired, .rideOffered])
        // The expired offer cannot be accepted any more.
        #expect(throws: DispatchError.self) { try script.act(.accept, ride.id, by: "slow") }
        #expect(try script.act(.accept, ride.id, by: "next").status == .accepted)
        _ = script.checkedEvents(of: ride.id)
    }

    @Test("the radius widens step by step while nobody is found, and stops at the maximum")
    func widening() throws {
        var script = DispatchScript {
            $0.searchRadius = 3_000
            $0.searchRadiusStep = 1_000
            $0.maxSearchRadius = 5_000
            $0.searchWidenInterval = .seconds(10)
        }
        let ride = try script.request("r")
        #expect(ride.status == .requested)
        script.advance(10)
        #expect(script.ride(ride.id)?.search.radius == 4_000)
        script.driver("d", distance: 5_500)  // beyond even the maximum
        script.advance(10)
        #expect(script.ride(ride.id)?.search.radius == 5_000)
        script.advance(30)
        #expect(script.ride(ride.id)?.search.radius == 5_000)
        #expect(script.ride(ride.id)?.status == .requested)
        script.driver("d", distance: 4_800)  // moves into reach
        script.advance(1)
        #expect(script.ride(ride.id)?.offer?.driverID == driverID("d"))
        #expect(script.ride(ride.id)?.offer?.explanation.radius == 5_000)
        let widened = script.events.filter { $0.kind == .searchWidened }.map(\.searchRadius)
        #expect(widened == [4_000, 5_000])
        _ = script.checkedEvents(of: ride.id)
    }

    @Test("with nobody in reach before SEARCH_TIMEOUT, the ride is unfulfilled")
    func unfulfilled() throws {
        var script = DispatchScript { $0.searchTimeout = .seconds(120) }
        let ride = try script.request("r")
        script.advance(119.9)
        #expect(script.ride(ride.id)?.status == .requested)
        script.advance(0.1)
        #expect(script.ride(ride.id)?.status == .unfulfilled)
        #expect(script.kinds(of: ride.id).last == .rideUnfulfilled)
        // The rider can ask again.
        #expect(try script.request("r").status == .requested)
        #expect(script.state.invariantViolations() == [])
    }

    @Test("an offer open at the search timeout plays out; a decline after it ends the search")
    func timeoutDuringOffer() throws {
        var script = DispatchScript {
            $0.searchTimeout = .seconds(20)
            $0.offerTimeout = .seconds(15)
        }
        let ride = try script.request("r")
        script.advance(10)
        script.driver("late", distance: 100)
        script.advance(1)
        #expect(script.ride(ride.id)?.status == .offered)
        script.advance(10)  // past the deadline, offer still open
        #expect(script.ride(ride.id)?.status == .offered)
        script.driver("other", distance: 50)
        _ = try script.act(.decline, ride.id, by: "late")
        #expect(script.ride(ride.id)?.status == .unfulfilled)
        #expect(script.status(of: "other") == .available)
    }

    @Test("the rider can cancel until the trip starts; the driver involved is freed")
    func riderCancels() throws {
        for stage in [RideStatus.requested, .offered, .accepted, .arrived] {
            var script = DispatchScript()
            let ride = try script.request("r")
            if stage != .requested {
                script.driver("d", distance: 100)
                script.advance(1)
            }
            if stage == .accepted || stage == .arrived { _ = try script.act(.accept, ride.id, by: "d") }
            if stage == .arrived { _ = try script.act(.arrive, ride.id, by: "d") }
            #expect(script.ride(ride.id)?.status == stage)
            let cancelled = try script.cancel(ride.id, rider: "r")
            #expect(cancelled.status == .cancelled)
            #expect(cancelled.cancelledAt == script.now)
            if stage != .requested { #expect(script.status(of: "d") == .available) }
            #expect(script.kinds(of: ride.id).last == .rideCancelled)
            #expect(script.state.invariantViolations() == [])
        }
    }

    @Test("a driver who cancels after accepting sends the ride back to searching, without them")
    func driverCancels() throws {
        var script = DispatchScript()
        script.driver("first", distance: 100)
        script.driver("second", distance: 900)
        let ride = try script.request("r")
        _ = try script.act(.accept, ride.id, by: "first")
        _ = try script.act(.arrive, ride.id, by: "first")
        let back = try script.cancel(ride.id, driver: "first")
        #expect(back.status == .offered)
        #expect(back.offer?.driverID == driverID("second"))
        #expect(back.driverID == nil)
        #expect(back.arrivedAt == nil)
        #expect(script.status(of: "first") == .available)
        #expect(
            script.kinds(of: ride.id) == [
                .rideRequested, .rideOffered, .rideAccepted, .driverArrived, .driverCancelled, .rideOffered,
            ]
        )
        #expect(script.events.first { $0.kind == .driverCancelled }?.status == .requested)
        _ = script.checkedEvents(of: ride.id)
    }

    @Test("a retry with the same Idempotency-Key returns the same ride; a different body is refused")
    func idempotency() throws {
        var script = DispatchScript()
        let first = try script.request("r", key: "key-1")
        let eventsBefore = script.events.count
        let again = try script.state.requestRide(
            RideRequest(riderID: riderID("r"), pickup: cityHall, dropoff: gangnam),
            idempotencyKey: "key-1",
            id: try RideID("ignored"),
            now: script.now
        )
        #expect(again.ride.id == first.id)
        #expect(!again.created)
        #expect(script.state.drainEvents().isEmpty)
        #expect(script.events.count == eventsBefore)
        #expect {
            try script.request("r", to: cityHall, key: "key-1")
        } throws: { ($0 as? DispatchError)?.code == .idempotencyKeyReused }
        // Without the key, the unfinished ride blocks a second one.
        #expect {
            try script.request("r")
        } throws: { ($0 as? DispatchError)?.code == .riderHasActiveRide }
    }

    @Test("finished rides are forgotten after the retention period, with their idempotency keys")
    func eviction() throws {
        var script = DispatchScript { $0.finishedRideRetention = .seconds(60) }
        let ride = try script.request("r", key: "k")
        _ = try script.cancel(ride.id, rider: "r")
        script.advance(59)
        #expect(script.ride(ride.id) != nil)
        script.advance(1)
        #expect(script.ride(ride.id) == nil)
        // The key is free again: a new ride.
        let next = try script.request("r", key: "k")
        #expect(next.id != ride.id)
    }
}

@Suite("What silence and ceilings do to rides")
struct SilenceAndCeilingTests {
    @Test("a driver with a ride is never forgotten while it holds it, however long it is silent")
    func busyDriversAreKept() throws {
        // (The watchdog that treats a silent assigned driver as gone is set far off here: this is
        // about the registry.)
        var script = DispatchScript {
            $0.driverForgetAfter = .seconds(300)
            $0.assignedDriverTTL = .seconds(10_000)
            $0.pickupGraceMargin = .seconds(10_000)
        }
        script.driver("d", distance: 100)
        let ride = try script.request("r")
        _ = try script.act(.accept, ride.id, by: "d")
        script.advance(1_000)
        _ = script.state.driverCounts(now: script.now)
        #expect(script.status(of: "d") == .enRoute)
        #expect(script.state.invariantViolations() == [])
        // Once free again, a silent driver is forgotten.
        _ = try script.act(.arrive, ride.id, by: "d")
        _ = try script.act(.start, ride.id, by: "d")
        _ = try script.act(.complete, ride.id, by: "d")
        script.advance(1)
        _ = script.state.driverCounts(now: script.now)
        #expect(script.status(of: "d") == nil)
        #expect(script.state.invariantViolations() == [])
    }

    @Test("past the open-ride ceiling a request is refused, and a retry with its key still answers")
    func openRideCeiling() throws {
        var script = DispatchScript { $0.maximumOpenRides = 1 }
        script.driver("d", distance: 100)
        let first = try script.request("r1")
        #expect {
            try script.request("r2")
        } throws: { error in
            (error as? DispatchError)?.code == .capacityExhausted
        }
        _ = try script.cancel(first.id, rider: "r1")
        #expect(try script.request("r2").status == .offered)
    }
}
