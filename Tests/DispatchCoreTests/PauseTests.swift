import DispatchCore
import Foundation
import Geo
import Testing

@Suite("While commands cannot be made durable, dispatch's clock stops and resumes where it was")
struct PauseTests {
    @Test("an open offer outlives a pause longer than its timeout, then expires on time after it")
    func offerPaused() throws {
        var script = DispatchScript()
        script.driver("d1", distance: 300)
        let ride = try script.request("rider-1")
        let offer = try #require(ride.offer)
        script.advance(5)
        script.state.pause(now: script.now)
        #expect(script.state.isPaused)
        script.advance(60)
        // Nothing fired: the driver still holds the offer.
        #expect(script.ride(ride.id)?.status == .offered)
        #expect(script.kinds(of: ride.id) == [.rideRequested, .rideOffered])
        script.state.resume(now: script.now)
        script.collect()
        #expect(!script.state.isPaused)
        // The offer had 10 s left when the pause began, and has them still.
        #expect(script.ride(ride.id)?.offer?.expiresAt == offer.expiresAt + 60)
        script.advance(9)
        #expect(script.ride(ride.id)?.status == .offered)
        script.advance(1)
        #expect(script.kinds(of: ride.id).contains(.offerExpired))
        #expect(script.state.invariantViolations() == [])
    }

    @Test("a pause longer than the search timeout ends no search; the time left is kept")
    func searchPaused() throws {
        var script = DispatchScript()
        let ride = try script.request("rider-2")
        script.advance(100)
        script.state.pause(now: script.now)
        script.advance(300)
        #expect(script.ride(ride.id)?.status == .requested)
        script.state.resume(now: script.now)
        script.collect()
        #expect(script.ride(ride.id)?.search.deadline == ride.search.deadline + 300)
        script.advance(19)
        #expect(script.ride(ride.id)?.status == .requested)
        script.advance(1)
        #expect(script.ride(ride.id)?.status == .unfulfilled)
        #expect(script.state.invariantViolations() == [])
    }

    @Test("no offer is made while paused, even to a driver who appears; one is made once resumed")
    func noOffersWhilePaused() throws {
        var script = DispatchScript()
        let ride = try script.request("rider-3")
        script.state.pause(now: script.now)
        script.driver("d2", distance: 200)
        script.advance(5)
        #expect(script.ride(ride.id)?.status == .requested)
        #expect(script.status(of: "d2") == .available)
        script.state.resume(now: script.now)
        script.collect()
        script.advance(1)
        #expect(script.ride(ride.id)?.status == .offered)
        #expect(script.ride(ride.id)?.offer?.driverID == driverID("d2"))
    }

    @Test("pausing twice keeps the first pause's start; resuming a running state changes nothing")
    func idempotent() throws {
        var script = DispatchScript()
        script.driver("d3", distance: 300)
        let ride = try script.request("rider-4")
        let expires = try #require(ride.offer?.expiresAt)
        script.state.resume(now: script.now)
        script.state.pause(now: script.now)
        script.advance(10)
        script.state.pause(now: script.now)
        script.advance(10)
        script.state.resume(now: script.now)
        #expect(script.ride(ride.id)?.offer?.expiresAt == expires + 20)
    }
}
