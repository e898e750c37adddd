import DispatchCore
import DispatchTestSupport
import Foundation
import Geo
import Testing

@Suite("An operator's act on a ride is recorded on the event it makes")
struct OperatorActTests {
    let clock = ManualClock(start: Date(timeIntervalSince1970: 1_800_000_000))
    let sink = RecordingEventSink()

    func dispatcher() throws -> Dispatcher {
        let dispatcher = Dispatcher(
            configuration: DispatchConfiguration(),
            clock: clock,
            rideIDs: SequentialRideIDs(),
            events: sink
        )
        for (id, metersNorth) in [("near", 200.0), ("far", 800.0)] {
            _ = try dispatcher.updateLocation(
                driverID(id),
                to: cityHall.destination(bearing: .north, distance: Meters(metersNorth)),
                recordedAt: nil
            )
        }
        return dispatcher
    }

    @Test("request, decline and cancel by an operator name it on their own events, not on what follows")
    func operatorActs() throws {
        let dispatcher = try dispatcher()
        let support = try #require(OperatorID("support-7"))
        let request = RideRequest(riderID: riderID("rider-1"), pickup: cityHall, dropoff: gangnam)
        let ride = try dispatcher.requestRide(request, idempotencyKey: nil, operatorID: support).value.ride
        // The driver's own decline names nobody; the operator's decline for the next driver names it.
        _ = try dispatcher.perform(.decline, on: ride.id, by: driverID("near"))
        _ = try dispatcher.perform(.decline, on: ride.id, by: driverID("far"), operatorID: support)
        _ = try dispatcher.cancel(ride.id, byRider: riderID("rider-1"), operatorID: support)
        let events = sink.events.filter { $0.rideID == ride.id }
        #expect(
            events.map(\.kind) == [
                .rideRequested, .rideOffered, .offerDeclined, .rideOffered, .offerDeclined, .rideCancelled,
            ]
        )
        #expect(events.map(\.operatorID) == [support, nil, nil, nil, support, support])
    }

    @Test("a refused operator command leaves nothing behind for the next command's events")
    func refusedCommand() throws {
        let dispatcher = try dispatcher()
        let support = try #require(OperatorID("support-7"))
        let request = RideRequest(riderID: riderID("rider-2"), pickup: cityHall, dropoff: gangnam)
        let ride = try dispatcher.requestRide(request, idempotencyKey: nil).value.ride
        // Not the driver offered the ride: refused, and no event.
        #expect(throws: DispatchError.self) {
            try dispatcher.perform(.accept, on: ride.id, by: driverID("far"), operatorID: support)
        }
        _ = try dispatcher.perform(.accept, on: ride.id, by: driverID("near"))
        let events = sink.events.filter { $0.rideID == ride.id }
        #expect(events.map(\.kind) == [.rideRequested, .rideOffered, .rideAccepted])
        #expect(events.allSatisfy { $0.operatorID == nil })
    }

    @Test("operator IDs follow the ID rule")
    func operatorIDRule() {
        #expect(OperatorID("ops-alice_1")?.rawValue == "ops-alice_1")
        #expect(OperatorID("") == nil)
        #expect(OperatorID("has space") == nil)
        #expect(OperatorID(String(repeating: "a", count: 65)) == nil)
    }
}
